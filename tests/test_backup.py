"""A complete logical backup under the database wall, with the app's own (non-superuser,
table-owning) role: ``manage.py backup_database`` then ``restore_database`` into an empty
database gives every table's rows back, and the wall is forced again after the restore.
PostgreSQL's own pg_dump, run plainly as that role, refuses (row-level security is forced on
the owner): the reason the commands exist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
from django.conf import settings

from tenancy.wall import PLATFORM_SETTING
from tests.support.services import WALL_ROLE

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.services,  # runs pg_dump, pg_restore and manage.py in processes: slow
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="backups are pg_dump archives: PostgreSQL only"),
]


def _database(name: str) -> str:
    """A new empty database owned by the suite's non-superuser role; its URL as that role."""
    server = urlparse(os.environ["DATABASE_URL"])
    with psycopg.connect(server._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}" OWNER "{WALL_ROLE}"')
    return server._replace(netloc=f"{WALL_ROLE}@{server.hostname}:{server.port}", path=f"/{name}").geturl()


def _manage(url: str, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_POOL")}
    env.update(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="smarter.settings", DEBUG="true", **extra)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def _tables(url: str) -> dict[str, tuple[int, list[tuple]]]:
    """Every table's row count and first rows, read in the wall's platform mode."""
    out = {}
    with psycopg.connect(url, options=f"-c {PLATFORM_SETTING}=on") as conn:
        names = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        for name in sorted(names):
            count = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
            rows = conn.execute(f'SELECT * FROM "{name}" ORDER BY 1 LIMIT 20').fetchall()
            out[name] = (count, rows)
    return out


direct = pytest.mark.skipif(bool(settings.DATABASE_POOL), reason="this run's DATABASE_URL is a transaction "
                            "pooler, which drops the session setting: the refusal is tested instead")


@pytest.fixture(scope="module")
def source() -> str:
    base = urlparse(os.environ["DATABASE_URL"]).path.lstrip("/")
    url = _database(f"{base}_backup_src")
    for args in (("migrate", "-v0"), ("load_demo",), ("create_account", "Second Tenant")):
        done = _manage(url, *args)
        assert done.returncode == 0, done.stderr
    return url


@direct
def test_a_plain_pg_dump_as_the_app_role_cannot_back_up(source, tmp_path):
    url = urlparse(source)
    done = subprocess.run(["pg_dump", "-Fc", "-h", url.hostname, "-p", str(url.port), "-U", WALL_ROLE,
                           "-f", str(tmp_path / "plain.dump"), url.path.lstrip("/")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "row-level security" in done.stderr


@direct
def test_backup_and_restore_give_every_row_back_behind_the_wall(source, tmp_path):
    archive = tmp_path / "backup.dump"
    done = _manage(source, "backup_database", str(archive))
    assert done.returncode == 0, done.stderr
    target = _database(f"{urlparse(source).path.lstrip('/')[:-4]}_dst")
    done = _manage(target, "restore_database", str(archive))
    assert done.returncode == 0, done.stderr
    assert "tenant tables behind the wall" in done.stdout
    before, after = _tables(source), _tables(target)
    assert after == before
    assert before["accounts_userprofile"][0] >= 3 and before["accounts_account"][0] >= 3
    with psycopg.connect(target) as conn:
        forced = dict(conn.execute("SELECT relname, relforcerowsecurity FROM pg_class "
                                   "WHERE relname IN ('accounts_userprofile', 'workspaces_workspace')"))
        assert forced == {"accounts_userprofile": True, "workspaces_workspace": True}
        # outside platform mode the restored database shows no tenant rows
        assert conn.execute("SELECT count(*) FROM accounts_userprofile").fetchone()[0] == 0
    again = _manage(target, "restore_database", str(archive))
    assert again.returncode != 0 and "not empty" in again.stderr


def test_through_a_transaction_pooler_the_commands_ask_for_the_direct_url(tmp_path):
    for command in ("backup_database", "restore_database"):
        done = _manage(os.environ["DATABASE_URL"], command, str(tmp_path / "x.dump"),
                       DATABASE_POOL="pgbouncer")
        assert done.returncode != 0 and "direct DATABASE_URL" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
