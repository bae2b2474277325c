"""Deployment: gunicorn as the Procfile runs it (DEBUG off), and Redis over TLS."""

from __future__ import annotations

import atexit
import http.client
import json
import os
import shlex
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest

from smarter.env import redis_cache
from tests.support.services import free_port, owner_role_url, throwaway_postgres

pytestmark = pytest.mark.services  # starts throwaway servers or processes: slow

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
BIN = Path(sys.executable).parent


def wait_for_port(port: int, proc: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listening on {port}")


@contextmanager
def serving(argv: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[int]:
    """Run a server process until the block ends; yields once ``port`` accepts connections."""
    proc = subprocess.Popen(
        argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, proc)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=10)


_EMBEDDED_RUN_POSTGRES: list[str] = []  # one throwaway cluster per session, when needed


def production_postgres_url() -> str:
    """A superuser URL of a PostgreSQL for production-like processes: the run's own server,
    or (on the embedded run, which has none) a throwaway one for the rest of the session.
    Production refuses SQLite (operations/checks.py)."""
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        return database_url
    if not _EMBEDDED_RUN_POSTGRES:
        stack = ExitStack()
        _EMBEDDED_RUN_POSTGRES.append(stack.enter_context(throwaway_postgres()))
        atexit.register(stack.close)
    return _EMBEDDED_RUN_POSTGRES[0]


def production_env(tmp_path: Path) -> dict[str, str]:
    """The environment an operator sets: a fresh PostgreSQL database owned by a role that
    row-level security binds, mail printed to the log by explicit choice."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(
        DEBUG="false",
        SECRET_KEY="deploy-test-" + "k" * 50,
        ROOT_DOMAIN="example.com",
        STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_SETTINGS_MODULE="smarter.settings",
        EMAIL_TO_LOG="true",
        TRUSTED_PROXIES="1",  # app.json's value: the requests below come as the router's
    )
    server = production_postgres_url()
    base = urlparse(server).path.lstrip("/") or "smarter"
    env["DATABASE_URL"] = owner_role_url(_fresh_postgres_database(server, f"{base}_deploy_test"))
    if os.environ.get("REDIS_URL"):
        env["REDIS_URL"] = os.environ["REDIS_URL"]
    return env


def fresh_database_url(tmp_path: Path, purpose: str) -> str:
    """An empty database of the kind this run tests against: on PostgreSQL one beside the run's
    own (``<name>_<purpose>_test``, never a name another run on the server also uses), else a
    SQLite file in ``tmp_path``."""
    database_url = os.environ.get("DATABASE_URL", "")
    if database_url.startswith("postgres"):
        base = urlparse(database_url).path.lstrip("/") or "smarter"
        return _fresh_postgres_database(database_url, f"{base}_{purpose}_test")
    return f"sqlite:///{tmp_path / f'{purpose}.sqlite3'}"


def _fresh_postgres_database(url: str, name: str) -> str:
    import psycopg

    parsed = urlparse(url)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parsed._replace(path=f"/{name}").geturl()


def manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """GET straight to the port (no proxy), as the platform's router would."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={
            "Host": "example.com", "X-Forwarded-Proto": "https", **headers,
        })
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.fixture
def procfile_web(tmp_path: Path) -> Iterator[int]:
    """Collect static, migrate, run the release phase, then start the Procfile's web line."""
    env = production_env(tmp_path)
    manage(env, "collectstatic", "--noinput", "-v0")
    lines = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    release = subprocess.run(
        lines["release"].strip(), shell=True, cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={**env, "PATH": f"{BIN}:{env['PATH']}"},
    )
    assert release.returncode == 0, release.stderr
    port = free_port()
    command = lines["web"].strip().replace("${PORT:-8000}", str(port))
    command = command.replace("${WEB_CONCURRENCY:-2}", "2")
    with serving([str(BIN / "gunicorn"), *shlex.split(command)[1:]], port, env):
        yield port


def test_gunicorn_serves_healthz_and_hashed_compressed_static(procfile_web: int, tmp_path: Path):
    status, _, body = get(procfile_web, "/healthz")
    assert status == 200
    health = json.loads(body)
    assert health["database"] == health["cache"] == "ok"
    # DEBUG off queues tasks for a worker; none runs beside this server: degraded, still 200
    assert (health["worker"], health["status"]) == ("missing", "degraded")

    manifest = json.loads((tmp_path / "static" / "staticfiles.json").read_text())
    hashed = manifest["paths"]["css/site.css"]
    assert hashed != "css/site.css"
    status, headers, body = get(procfile_web, f"/static/{hashed}", **{"Accept-Encoding": "gzip"})
    assert status == 200
    assert headers.get("Content-Encoding") == "gzip"
    assert "immutable" in headers.get("Cache-Control", "")

    status, headers, _ = get(procfile_web, "/", **{"X-Forwarded-Proto": "http"})
    assert status == 301 and headers["Location"].startswith("https://example.com/")
    status, headers, body = get(procfile_web, "/")
    assert status == 200 and b"Platform" in body
    assert "Strict-Transport-Security" in headers


def test_release_phase_is_idempotent(tmp_path: Path):
    env = production_env(tmp_path)
    manage(env, "migrate", "--noinput", "-v0")
    first = manage(env, "initialize_platform", "--no-input")
    second = manage(env, "initialize_platform", "--no-input")
    assert "created" in first.stdout
    assert "already present" in second.stdout and "created" not in second.stdout


def test_production_refuses_to_start_without_secret_key(tmp_path: Path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = subprocess.run(
        [PYTHON, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_redis_url_tls_options_only_for_rediss():
    plain = redis_cache("redis://127.0.0.1:6379/0")["OPTIONS"]["CONNECTION_POOL_KWARGS"]
    tls = redis_cache("rediss://127.0.0.1:6380/0")["OPTIONS"]["CONNECTION_POOL_KWARGS"]
    assert plain == {}
    assert tls == {"ssl_cert_reqs": None}


@pytest.fixture
def tls_redis(tmp_path: Path) -> Iterator[int]:
    """A throwaway Redis speaking only TLS, with a freshly made self-signed certificate."""
    cert, key = tmp_path / "redis.crt", tmp_path / "redis.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )
    port = free_port()
    argv = [
        "redis-server", "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1",
        "--tls-cert-file", str(cert), "--tls-key-file", str(key), "--tls-ca-cert-file", str(cert),
        "--tls-auth-clients", "no", "--save", "", "--appendonly", "no",
    ]
    with serving(argv, port):
        yield port


def test_cache_works_over_rediss_with_self_signed_certificate(tls_redis: int, tmp_path: Path):
    script = (
        "import django; django.setup();"
        "from django.core.cache import cache;"
        "from django_redis import get_redis_connection;"
        "get_redis_connection('default').ping();"
        "cache.set('tls-probe', 'over-tls', 30); print(cache.get('tls-probe'))"
    )
    env = production_env(tmp_path)
    env["REDIS_URL"] = f"rediss://127.0.0.1:{tls_redis}/0"
    result = subprocess.run(
        [PYTHON, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "over-tls"


ENQUEUE = """
import django; django.setup()
from tenancy.wall import enter_platform; enter_platform("deploy test script")
from accounts.models import Account
from accounts.provisioning import add_member, ensure_default_account
from lifecycle.models import DataExport
from lifecycle.tasks import export_account
from tests.test_tasks import scoped_workspace_names
from workspaces.models import Workspace

default, _ = ensure_default_account()
add_member(default, "root", superuser=True)
ids = []
for tag in ("alpha", "bravo"):
    account = Account.objects.create(company_name=tag.title())
    admin, _ = add_member(account, tag + "-admin", admin=True, email=tag + "@example.org")
    Workspace.objects.create(user_profile=admin, name=tag + "-one")
    Workspace.objects.create(user_profile=admin, name=tag + "-two")
    ids.append(scoped_workspace_names.enqueue(account.pk, "root").id)
export = DataExport.objects.create(account=account, requested_by=admin)
ids.append(export_account.enqueue(account.pk, export.pk, "https://bravo.example/").id)
print(" ".join(ids))
"""

RESULTS = """
import django, json, sys; django.setup()
from tenancy.wall import enter_platform; enter_platform("deploy test script")
from django_tasks_db.models import DBTaskResult
from lifecycle.models import DataExport
rows = {str(r.id): [r.status, r.return_value if r.status == "SUCCESSFUL" else None]
        for r in DBTaskResult.objects.all()}
print(json.dumps({"tasks": rows, "exports": list(DataExport.objects.values_list("status", "file_name"))}))
"""


def test_procfile_worker_runs_queued_tasks_each_in_its_tenant(tmp_path: Path):
    """Production settings queue tasks in the database; the Procfile's worker line runs them."""
    env = production_env(tmp_path)
    env.update(MEDIA_ROOT=str(tmp_path / "media"),
               EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    manage(env, "migrate", "--noinput", "-v0")
    queued = subprocess.run([PYTHON, "-c", ENQUEUE], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=60)
    assert queued.returncode == 0, queued.stderr
    alpha_id, bravo_id, export_id = queued.stdout.split()

    def results() -> dict:
        out = subprocess.run([PYTHON, "-c", RESULTS], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=60, check=True)
        return json.loads(out.stdout)

    assert {v[0] for v in results()["tasks"].values()} == {"READY"}  # nothing runs in-process
    lines = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    argv = shlex.split(lines["worker"].strip())
    assert argv[:3] == ["python", "manage.py", "db_worker"]
    worker = subprocess.Popen([PYTHON, *argv[1:]], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        state = results()
        while time.monotonic() < deadline:
            state = results()
            if len(state["tasks"]) == 4 and all(v[0] != "READY" and v[0] != "RUNNING"
                                                for v in state["tasks"].values()):
                break
            time.sleep(0.5)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    tasks = state["tasks"]
    assert tasks[alpha_id] == ["SUCCESSFUL", {"tenant": tasks[alpha_id][1]["tenant"],
                                              "names": ["alpha-one", "alpha-two"],
                                              "operation": ["task", "scoped_workspace_names"]}]
    assert tasks[bravo_id][1]["names"] == ["bravo-one", "bravo-two"]
    assert tasks[export_id] == ["SUCCESSFUL", "ready"]
    # The export's mail went through its own task (send_email), also run by the worker.
    assert sorted(v[0] for v in tasks.values()) == ["SUCCESSFUL"] * 4
    [(status, name)] = state["exports"]
    assert status == "ready" and (tmp_path / "media" / name).is_file()


GUNICORN_SETTING = """
import sys
from gunicorn.app.wsgiapp import WSGIApplication
sys.argv = ["gunicorn", "-c", "gunicorn.conf.py", "smarter.wsgi"]
print(repr(WSGIApplication().cfg.forwarded_allow_ips))
"""


@pytest.mark.parametrize(("trusted", "allowed"), [("0", "[]"), ("", "[]"), ("1", "['*']")])
def test_gunicorn_honours_forwarded_proto_only_behind_trusted_proxies(trusted, allowed):
    """The Procfile no longer trusts every peer's X-Forwarded-Proto: gunicorn.conf.py follows
    TRUSTED_PROXIES, as the app's own SECURE_PROXY_SSL_HEADER does."""
    web = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line)
    assert "forwarded-allow-ips" not in web["web"]
    env = {**os.environ, "TRUSTED_PROXIES": trusted}
    done = subprocess.run([PYTHON, "-c", GUNICORN_SETTING], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == allowed
