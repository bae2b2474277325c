"""Logical backups of the whole database under the database wall, with the app's own
credentials: ``pg_dump`` and ``pg_restore`` run in the wall's platform mode (the session
setting every policy admits), so every tenant's rows are written and read back; without it,
row-level security FORCEd on the owner makes ``pg_dump`` refuse, or with
``--enable-row-security`` write no tenant row at all."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.db import connection

from tenancy.distribution import tenant_owned_models
from tenancy.wall import PLATFORM_SETTING


class BackupError(Exception):
    """pg_dump or pg_restore failed, or the restored database is not behind the wall."""


def _pg_environment(database: Mapping[str, Any]) -> dict[str, str]:
    """libpq's variables for ``database`` (a Django settings dict), in platform mode."""
    if database["ENGINE"] != "django.db.backends.postgresql":
        raise BackupError("Backups are for PostgreSQL; the embedded SQLite database is one file "
                          "(db.sqlite3): copy it while nothing writes.")
    if settings.DATABASE_POOL:
        raise BackupError("DATABASE_POOL is set: a transaction pooler drops the session setting the "
                          "backup needs. Run it with the database's direct DATABASE_URL.")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    values = {"PGHOST": database.get("HOST"), "PGPORT": database.get("PORT"), "PGUSER": database.get("USER"),
              "PGPASSWORD": database.get("PASSWORD"), "PGDATABASE": database.get("NAME")}
    env.update({k: str(v) for k, v in values.items() if v})
    env["PGOPTIONS"] = f"-c {PLATFORM_SETTING}=on"
    env["PGCONNECT_TIMEOUT"] = "10"
    return env


def _run(argv: Sequence[str], env: dict[str, str]) -> None:
    """Run a PostgreSQL client program; its standard output is this process's."""
    try:
        done = subprocess.run(list(argv), env=env, stderr=subprocess.PIPE, check=False)  # noqa: S603
    except FileNotFoundError:
        raise BackupError(f"{argv[0]} is not installed (PostgreSQL's client programs)") from None
    if done.returncode != 0:
        raise BackupError(f"{argv[0]} failed: {done.stderr.decode(errors='replace').strip()[-2000:]}")


def backup(path: str) -> None:
    """Write a ``pg_dump`` custom-format archive of the whole database to ``path`` ("-": stdout)."""
    env = _pg_environment(settings.DATABASES["default"])
    argv = ["pg_dump", "--format=custom", "--enable-row-security", "--no-owner", "--no-privileges"]
    _run(argv if path == "-" else [*argv, f"--file={path}"], env)


def restore(path: str) -> dict[str, int]:
    """Restore an archive of :func:`backup` into the (empty) database; the row counts of the
    tenant tables restored. Refuses a database that has tables, and checks afterwards that
    every tenant table is behind the wall again."""
    target = settings.DATABASES["default"]
    env = _pg_environment(target)
    if connection.introspection.table_names():
        raise BackupError("The database is not empty: restore into a new, empty database, then "
                          "point DATABASE_URL at it.")
    _run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
          f"--dbname={target['NAME']}", path], env)
    tables = sorted(model._meta.db_table for model in tenant_owned_models())
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relname = ANY(%s) "
                       "AND relrowsecurity AND relforcerowsecurity", [tables])
        walled = {name for (name,) in cursor.fetchall()}
        missing = [t for t in tables if t not in walled]
        if missing:
            raise BackupError(f"Restored, but these tables are not behind the wall: {', '.join(missing)}")
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')  # noqa: S608 - our own table names
            counts[table] = cursor.fetchone()[0]
    return counts
