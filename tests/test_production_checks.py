"""Production (DEBUG off) refuses unsafe set-ups (operations/checks.py): ``check --deploy``
reports each as an error, and the web (smarter.wsgi under gunicorn) and the worker
(``manage.py db_worker``) exit at start-up with one line per refusal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.services import free_port, owner_role_url, throwaway_postgres

pytestmark = pytest.mark.services  # starts throwaway servers or processes: slow

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DATABASE_POOL", "REDIS_URL", "DJANGO_SETTINGS_MODULE",
                        "ROOT_DOMAIN", "EMAIL_URL", "EMAIL_TO_LOG", "DEBUG")}
    env.update(DEBUG="false", SECRET_KEY="checks-test-" + "k" * 50,
               DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
               DJANGO_SETTINGS_MODULE="smarter.settings", LOG_FORMAT="json")
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)


def _check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return _run([sys.executable, "manage.py", "check", "--deploy"], env)


def test_check_deploy_errors_on_sqlite_the_default_root_domain_and_mail_to_the_log(tmp_path):
    done = _check_deploy(_env(tmp_path))
    assert done.returncode == 1
    for code in ("operations.E001", "operations.E003", "operations.E004"):
        assert code in done.stderr, done.stderr
    # the operator's explicit choice of mail in the log, and a root domain: SQLite remains
    done = _check_deploy(_env(tmp_path, ROOT_DOMAIN="example.com", EMAIL_TO_LOG="true"))
    assert "operations.E001" in done.stderr
    assert "operations.E003" not in done.stderr and "operations.E004" not in done.stderr
    # a real mail backend needs no opt-in
    done = _check_deploy(_env(tmp_path, EMAIL_URL="smtp://127.0.0.1:25"))
    assert "operations.E004" not in done.stderr


def test_nothing_is_refused_with_debug_on(tmp_path):
    done = _check_deploy(_env(tmp_path, DEBUG="true"))
    assert "operations." not in done.stderr + done.stdout


def test_the_web_and_the_worker_refuse_to_start_with_one_line_each(tmp_path):
    env = _env(tmp_path)
    web = _run([sys.executable, "-c", "import smarter.wsgi"], env)
    assert web.returncode == 4
    lines = [json.loads(line) for line in web.stderr.splitlines() if line.strip()]
    assert [line["level"] for line in lines] == ["critical"] * 3, web.stderr
    assert all(line["event"].startswith("web refuses to start: operations.E00") for line in lines)
    assert "Traceback" not in web.stderr
    worker = _run([sys.executable, "manage.py", "db_worker", "--batch"], env)
    assert worker.returncode == 4
    assert "worker refuses to start: operations.E001" in worker.stderr
    assert "Traceback" not in worker.stderr


def test_gunicorn_stops_when_the_app_refuses(tmp_path):
    port = free_port()
    done = _run([str(BIN / "gunicorn"), "smarter.wsgi", "-c", "gunicorn.conf.py",
                 "--bind", f"127.0.0.1:{port}", "--workers", "1"], _env(tmp_path), timeout=60)
    assert done.returncode != 0  # the arbiter halts ("App failed to load"), no restart loop
    assert "web refuses to start: operations.E001" in done.stderr + done.stdout


def test_a_superuser_role_is_refused_and_an_owner_role_is_not(tmp_path):
    with throwaway_postgres() as superuser_url:
        env = _env(tmp_path, ROOT_DOMAIN="example.com", EMAIL_TO_LOG="true",
                   DATABASE_URL=superuser_url)
        done = _check_deploy(env)
        assert done.returncode == 1
        assert "operations.E002" in done.stderr and "'postgres' is a superuser role" in done.stderr
        web = _run([sys.executable, "-c", "import smarter.wsgi"], env)
        assert web.returncode == 4 and "operations.E002" in web.stderr
        owner = owner_role_url(superuser_url)
        done = _check_deploy({**env, "DATABASE_URL": owner})
        assert "operations.E" not in done.stderr, done.stderr


def test_a_database_that_does_not_answer_does_not_stop_the_start(tmp_path):
    """An outage at start-up must not keep the web from serving its 503s: the role is then
    not checked (an Info), the rest still is."""
    env = _env(tmp_path, ROOT_DOMAIN="example.com", EMAIL_TO_LOG="true",
               DATABASE_URL=f"postgres://app@127.0.0.1:{free_port()}/none")
    done = _run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert "operations.I002" in done.stdout + done.stderr
    assert "operations.E" not in done.stderr


def test_app_json_sets_the_production_log_format() -> None:
    """docs/OPERATIONS.md calls JSON logs the production setting: an app made from app.json
    gets them."""
    env = json.loads((ROOT / "app.json").read_text())["env"]
    assert env["LOG_FORMAT"]["value"] == "json"
    assert env["DEBUG"]["value"] == "false"
