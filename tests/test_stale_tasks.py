"""A task whose worker died is retried, then failed, after TASKS_RUNNING_TIMEOUT; its export
can be requested again (issue 22, item 6). One test really kills a db_worker mid-export."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from lifecycle.models import DataExport
from tests.support.api_support import api_for
from tests.test_deploy import PYTHON, ROOT, production_env
from tests.test_tasks import DB_TASKS

pytestmark = pytest.mark.django_db(transaction=True)


def _claim_and_die(export: DataExport, worker: str, minutes_ago: int = 60) -> DBTaskResult:
    """What a worker killed mid-task leaves: the export's task RUNNING since long ago."""
    [result] = DBTaskResult.objects.filter(status="READY", task_path__endswith="export_account")
    result.claim(worker)
    since = timezone.now() - timedelta(minutes=minutes_ago)
    DBTaskResult.objects.filter(pk=result.pk).update(started_at=since)
    return result


@pytest.fixture
def db_tasks(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TASKS_RUNNING_TIMEOUT = 600
    with override_settings(TASKS=DB_TASKS):
        yield settings


def test_an_export_whose_worker_died_is_retried_then_can_be_requested_again(tenant_a, db_tasks) -> None:  # type: ignore[no-untyped-def]
    api = api_for(tenant_a.admin)
    first = api.post("exports/")
    assert first.status_code == 202
    task = _claim_and_die(DataExport.objects.get(pk=first.json()["id"]), "killed-1", minutes_ago=5)
    assert api.post("exports/").status_code == 409  # within the timeout: still being prepared
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=timezone.now() - timedelta(hours=1))
    assert api.post("exports/").status_code == 409  # retried (attempt 2 of 2): pending again
    assert DBTaskResult.objects.get(pk=task.pk).status == "READY"
    call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
    assert DBTaskResult.objects.get(pk=task.pk).status == "SUCCESSFUL"
    assert DataExport.objects.get(pk=first.json()["id"]).status == DataExport.READY
    assert api.post("exports/").status_code == 202


def test_a_task_out_of_attempts_fails_and_so_does_its_export(tenant_a, db_tasks) -> None:  # type: ignore[no-untyped-def]
    db_tasks.TASKS_MAX_ATTEMPTS = 1
    api = api_for(tenant_a.admin)
    first = api.post("exports/").json()["id"]
    task = _claim_and_die(DataExport.objects.get(pk=first), "killed-1")
    second = api.post("exports/")
    assert second.status_code == 202, second.content
    dead = DBTaskResult.objects.get(pk=task.pk)
    assert dead.status == "FAILED" and dead.exception_class_path == "tenancy.stale_tasks.WorkerLost"
    export = DataExport.objects.get(pk=first)
    assert export.status == DataExport.FAILED and "request it again" in export.error


RESULTS = """
import django, json; django.setup()
from tenancy.wall import enter_platform; enter_platform("stale-task test script")
from django_tasks_db.models import DBTaskResult
from lifecycle.models import DataExport
tasks = DBTaskResult.objects.filter(task_path__endswith="export_account")
print(json.dumps({"tasks": [[r.status, r.worker_ids] for r in tasks],
                  "exports": list(DataExport.objects.values_list("status", flat=True))}))
"""

ENQUEUE = """
import django; django.setup()
from tenancy.wall import enter_platform; enter_platform("stale-task test script")
from accounts.models import Account
from accounts.provisioning import add_member, ensure_default_account
from lifecycle.models import DataExport
from lifecycle.tasks import export_account
ensure_default_account()
account = Account.objects.create(company_name="Alpha")
admin, _ = add_member(account, "alpha-admin", admin=True, email="alpha@example.org")
export = DataExport.objects.create(account=account, requested_by=admin)
export_account.enqueue(account.pk, export.pk, "https://alpha.example/")
"""


def _python(env: dict[str, str], code: str) -> str:
    done = subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _wait(predicate, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


@pytest.mark.services  # runs the web and the worker in processes
def test_a_killed_worker_s_export_is_retried_by_the_next_worker(tmp_path: Path) -> None:
    env = production_env(tmp_path)
    # The new worker reaps at start-up and then every TASKS_REAP_INTERVAL: if it starts within
    # the 2 s timeout of the claim (a fast machine), the interval's reap is the one that finds
    # the task, so it must come within the wait below.
    env.update(MEDIA_ROOT=str(tmp_path / "media"), TASKS_RUNNING_TIMEOUT="2", TASKS_REAP_INTERVAL="1",
               EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
               HANG_MARKER=str(tmp_path / "hanging"))
    subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True,
                   timeout=180)
    _python(env, ENQUEUE)
    worker_args = ["--no-startup-delay", "--interval", "0.2", "--no-reload"]
    hanging = subprocess.Popen([PYTHON, "-m", "tests.support.task_support", *worker_args], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: (tmp_path / "hanging").exists())
    finally:
        os.kill(hanging.pid, signal.SIGKILL)  # mid-task: no chance to record anything
        hanging.wait(timeout=10)
    state = json.loads(_python(env, RESULTS))
    assert state == {"tasks": [["RUNNING", state["tasks"][0][1]]], "exports": ["pending"]}
    worker = subprocess.Popen([PYTHON, "manage.py", "db_worker", *worker_args], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(lambda: json.loads(_python(env, RESULTS))["exports"] == ["ready"])
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    [(status, worker_ids)] = json.loads(_python(env, RESULTS))["tasks"]
    assert status == "SUCCESSFUL" and len(worker_ids) == 2
