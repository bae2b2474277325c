"""The two-role layout (docs/OPERATIONS.md, "Database roles"): the owner role runs the release
phase (migrations) and ``grant_runtime_role``; web and worker connect as a runtime role with
row access only, which cannot switch the database wall off, drop its policies or change the
schema, and still serves the app. On a throwaway PostgreSQL, in both test runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest

from tests.support.services import owner_role_url, throwaway_postgres

pytestmark = pytest.mark.services  # starts throwaway servers or processes: slow

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = "smarter_runtime"

SERVE = """
import django, sys
django.setup()
from django.test import Client
host = sys.argv[1]
print(Client(HTTP_HOST=host).get("/").status_code)
"""


WHO = """
import smarter.wsgi
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT current_user, has_table_privilege('accounts_account', 'SELECT')")
    print(*cursor.fetchone())
"""
WHO_SHELL = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("SELECT current_user")
    print(cursor.fetchone()[0])
"""


def _env(database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "DATABASE_POOL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="smarter.settings", DEBUG="true",
               NEW_USER_PASSWORD="runtime-role-pw-4711")
    return env


def _manage(database_url: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=_env(database_url),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout.strip()


def test_the_runtime_role_cannot_disable_the_wall_and_still_serves(tmp_path):
    with throwaway_postgres() as superuser_url:
        owner_url = owner_role_url(superuser_url)
        _manage(owner_url, "migrate", "--noinput", "-v0")  # the release phase, as the owner
        _manage(owner_url, "initialize_platform", "--no-input")
        with psycopg.connect(superuser_url, autocommit=True) as conn:
            conn.execute(f'CREATE ROLE "{RUNTIME}" LOGIN NOSUPERUSER NOBYPASSRLS')
        assert "row access" in _manage(owner_url, "grant_runtime_role", RUNTIME)
        _manage(owner_url, "grant_runtime_role", RUNTIME)  # idempotent
        parts = urlparse(owner_url)
        runtime_url = parts._replace(netloc=f"{RUNTIME}@{parts.hostname}:{parts.port}").geturl()

        with psycopg.connect(owner_url, autocommit=True) as conn:
            walled = [row[0] for row in conn.execute(
                "SELECT relname FROM pg_class WHERE relforcerowsecurity ORDER BY relname")]
        assert "accounts_userprofile" in walled
        with psycopg.connect(runtime_url, autocommit=True) as conn:
            for statement in (
                "ALTER TABLE accounts_userprofile NO FORCE ROW LEVEL SECURITY",
                "ALTER TABLE accounts_userprofile DISABLE ROW LEVEL SECURITY",
                "DROP TABLE accounts_userprofile",
                "CREATE TABLE planted (id int)",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
            policies = conn.execute("SELECT count(*) FROM pg_policies WHERE tablename = "
                                    "'accounts_userprofile'").fetchone()
            assert policies is not None and policies[0] >= 1
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DROP POLICY IF EXISTS tenant_wall ON accounts_userprofile")

        # the app works as the runtime role: commands write, a tenant page is served
        number = _manage(runtime_url, "create_account", "Runtime Inc")
        _manage(runtime_url, "create_user", "rt-admin", "--account", number, "--admin",
                "--email", "rt-admin@runtime.test")
        served = subprocess.run([sys.executable, "-c", SERVE, f"{number}.alpha.api.localhost"],
                                cwd=ROOT, env=_env(runtime_url), capture_output=True, text=True,
                                timeout=120)
        assert served.stdout.strip().splitlines()[-1] == "200", served.stderr[-3000:]
        with psycopg.connect(owner_url, autocommit=True) as conn:
            assert conn.execute("SELECT relforcerowsecurity FROM pg_class "
                                "WHERE relname = 'accounts_userprofile'").fetchone() == (True,)

        # the wiring: DATABASE_URL stays the owner's (the release phase), and the web process
        # (production settings, its start-up checks included) connects as RUNTIME_DATABASE_URL
        env = {**_env(owner_url), "RUNTIME_DATABASE_URL": runtime_url, "DEBUG": "false",
               "SECRET_KEY": "roles-test-" + "k" * 50, "ROOT_DOMAIN": "example.com",
               "EMAIL_TO_LOG": "true"}
        web = subprocess.run([sys.executable, "-c", WHO], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120)
        assert web.returncode == 0, web.stderr[-3000:]
        assert web.stdout.split() == [RUNTIME, "True"]
        owner = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", WHO_SHELL], cwd=ROOT,
                               env=env, capture_output=True, text=True, timeout=120)
        assert owner.stdout.split() == ["smarter_wall"], owner.stderr[-3000:]
