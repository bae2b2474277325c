"""The task worker survives its database going away (issue 36, section 3).

* End to end: a real ``manage.py db_worker`` (JSON logs, DEBUG off) on a throwaway PostgreSQL
  that is stopped under it and started again: the worker stays up, logs one JSON line when it
  loses the database and one when it has it back, and runs every queued mail exactly once
  (queued before, during and after the outage).
* PostgreSQL restarted while the worker hands a mail to a (slow) mail server: the worker
  stays up, retries the task whose result it could not record, and the mail goes out once.
* A task whose worker's heartbeat stopped is reaped after ``WORKER_HEARTBEAT_MAX_AGE``, not
  after ``TASKS_RUNNING_TIMEOUT``; a live worker's task is left alone.
* A retried mail task does not mail twice; a mail that failed to send is sent by the retry.
* ``/healthz`` says ``worker: degraded`` while a live worker reports it waits for its database.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import SentMail
from accounts.tasks import send_email
from operations.health import report
from operations.models import WorkerHeartbeat
from tenancy.stale_tasks import reap_stale_tasks
from tests.support.services import owner_role_url, postgres_server
from tests.test_deploy import PYTHON, ROOT
from tests.test_tasks import DB_TASKS

ENQUEUE = """
import django, sys; django.setup()
from tenancy.wall import enter_platform; enter_platform("worker outage test")
from accounts.provisioning import ensure_default_account
from accounts.tasks import send_email
account, _ = ensure_default_account()
for i in range(int(sys.argv[2])):
    send_email.enqueue(account.pk, f"outage-{sys.argv[1]}-{i}", "body", ["someone@example.org"])
"""

STATE = """
import django, json; django.setup()
from tenancy.wall import enter_platform; enter_platform("worker outage test")
from django_tasks_db.models import DBTaskResult
from operations.models import WorkerHeartbeat
print(json.dumps({"tasks": sorted(r.status for r in DBTaskResult.objects.all()),
                  "beats": list(WorkerHeartbeat.objects.values_list("state", flat=True))}))
"""


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "EMAIL_URL"}}
    env.update(DEBUG="false", SECRET_KEY="worker-outage-" + "k" * 50, ROOT_DOMAIN="example.com",
               STATIC_ROOT=str(tmp_path / "static"), DJANGO_SETTINGS_MODULE="smarter.settings",
               DATABASE_URL=owner_role_url(database_url), EMAIL_TO_LOG="true", LOG_FORMAT="json",
               PYTHONUNBUFFERED="1",
               WORKER_RECONNECT_MIN="0.2", WORKER_RECONNECT_MAX="1",
               WORKER_HEARTBEAT_INTERVAL="0.5", TASKS_REAP_INTERVAL="1")
    return env


def _python(env: dict[str, str], code: str, *args: str) -> str:
    done = subprocess.run([PYTHON, "-c", code, *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _wait(predicate, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.3)


def _log_lines(path: Path) -> list[dict]:
    """The worker's JSON log lines (the console mail backend's messages are plain text)."""
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


@pytest.mark.services
def test_the_worker_waits_out_a_database_outage_and_runs_each_task_once(tmp_path: Path) -> None:
    with postgres_server() as pg:
        env = _env(tmp_path, pg.url)
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env,
                       check=True, timeout=300)
        _python(env, ENQUEUE, "before", "3")
        log = tmp_path / "worker.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [PYTHON, "manage.py", "db_worker", "--no-startup-delay", "--interval", "0.2",
                 "--no-reload"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _wait(lambda: json.loads(_python(env, STATE))["tasks"] == ["SUCCESSFUL"] * 3)
            pg.stop()  # fast shutdown: the worker's connections are cut
            _wait(lambda: "database unavailable" in log.read_text(errors="replace"), 30)
            time.sleep(3)  # several reconnection attempts while it is down
            assert worker.poll() is None, log.read_text()[-3000:]
            pg.start()
            _wait(lambda: "database available again" in log.read_text(errors="replace"), 30)
            _python(env, ENQUEUE, "after", "3")
            _wait(lambda: json.loads(_python(env, STATE))["tasks"] == ["SUCCESSFUL"] * 6)
            assert json.loads(_python(env, STATE))["beats"] == ["ok"]
            assert worker.poll() is None
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=15)
        text = log.read_text(errors="replace")
        lines = _log_lines(log)
        states = [line["event"] for line in lines if line.get("logger") == "operations.worker"]
        assert len(states) == 2, states  # one line per state change, not one per attempt
        assert "database unavailable (OperationalError" in states[0]
        assert "database available again" in states[1]
        assert "Traceback" not in text
        sent = [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Subject: ")]
        assert sorted(sent) == sorted([f"outage-before-{i}" for i in range(3)]
                                      + [f"outage-after-{i}" for i in range(3)])


SLOW_MAIL_WORKER = """
import django, sys; django.setup()
from django.conf import settings
settings.EMAIL_BACKEND = "tests.test_worker_outage.SlowMailBackend"
from django.core.management import call_command
call_command("db_worker", *sys.argv[1:])
"""


class SlowMailBackend:
    """A mail server that takes 3 s per message: marks ``$SENDING`` when it starts, appends
    each subject to ``$SENT_LOG`` once it has the message."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def send_messages(self, messages: list) -> int:  # type: ignore[type-arg]
        Path(os.environ["SENDING"]).write_text("sending")
        time.sleep(3)
        with open(os.environ["SENT_LOG"], "a") as log:
            for message in messages:
                log.write(message.subject + "\n")
        return len(messages)


@pytest.mark.services
def test_a_database_restart_while_a_mail_is_sent_neither_kills_the_worker_nor_mails_twice(
    tmp_path: Path,
) -> None:
    """What the chaos soak found: PostgreSQL restarted while a worker sent an invitation; the
    worker exited recording the result, the task was retried and the mail went out twice."""
    with postgres_server() as pg:
        env = _env(tmp_path, pg.url)
        env.update(SENDING=str(tmp_path / "sending"), SENT_LOG=str(tmp_path / "sent.log"))
        subprocess.run([PYTHON, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env,
                       check=True, timeout=300)
        log = tmp_path / "worker.log"
        with log.open("wb") as out:
            worker = subprocess.Popen(
                [PYTHON, "-c", SLOW_MAIL_WORKER, "--no-startup-delay", "--interval", "0.2",
                 "--no-reload"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _python(env, ENQUEUE, "invite", "1")
            _wait(lambda: (tmp_path / "sending").exists())
            pg.stop()  # while the mail is with the mail server: recording its result fails
            _wait(lambda: "database unavailable" in log.read_text(errors="replace"), 30)
            pg.start()
            _wait(lambda: json.loads(_python(env, STATE))["tasks"] == ["SUCCESSFUL"], 60)
            assert worker.poll() is None, log.read_text()[-3000:]
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(timeout=15)
        text = log.read_text(errors="replace")
        assert (tmp_path / "sent.log").read_text().splitlines() == ["outage-invite-0"]
        assert "1 interrupted task(s) retried" in text, text[-3000:]
        assert "was sent by an earlier attempt: not sent again" in text
        assert "Traceback" not in text


transactional = pytest.mark.django_db(transaction=True)


def _running_task(worker: str, seconds_ago: float) -> DBTaskResult:
    send_email.enqueue(1, "reap me", "body", ["someone@example.org"])
    result = DBTaskResult.objects.get(status="READY")
    result.claim(worker)
    DBTaskResult.objects.filter(pk=result.pk).update(
        started_at=timezone.now() - timedelta(seconds=seconds_ago))
    return result


@transactional
def test_a_task_whose_worker_stopped_beating_is_reaped_within_the_heartbeat_age(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS_RUNNING_TIMEOUT, settings.WORKER_HEARTBEAT_MAX_AGE = 1800, 60
    with override_settings(TASKS=DB_TASKS):
        task = _running_task("dead-worker", seconds_ago=90)
        assert reap_stale_tasks() == (0, 0)  # the timeout alone: still 28 minutes to go
        assert reap_stale_tasks(live_workers={"dead-worker"}) == (0, 0)  # its worker beats
        assert reap_stale_tasks(live_workers={"another"}) == (1, 0)
        assert DBTaskResult.objects.get(pk=task.pk).status == "READY"
        DBTaskResult.objects.all().delete()
        young = _running_task("just-started", seconds_ago=10)
        assert reap_stale_tasks(live_workers=set()) == (0, 0)  # younger than the heartbeat age
        assert DBTaskResult.objects.get(pk=young.pk).status == "RUNNING"


@transactional
def test_a_retried_mail_task_does_not_mail_twice(settings) -> None:  # type: ignore[no-untyped-def]
    with override_settings(TASKS=DB_TASKS):
        send_email.enqueue(1, "invitation", "body", ["someone@example.org"])
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        result = DBTaskResult.objects.get()
        assert result.status == "SUCCESSFUL" and len(mail.outbox) == 1
        assert SentMail.objects.filter(task_id=result.pk).exists()
        # its worker lost the database before recording the result: the task is run again
        DBTaskResult.objects.filter(pk=result.pk).update(status="READY")
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        assert DBTaskResult.objects.get().status == "SUCCESSFUL"
        assert len(mail.outbox) == 1  # not sent again


@transactional
def test_a_mail_that_failed_to_send_is_sent_by_the_retry(settings) -> None:  # type: ignore[no-untyped-def]
    settings.EMAIL_BACKEND = "tests.test_worker_outage.RefusingBackend"
    with override_settings(TASKS=DB_TASKS):
        send_email.enqueue(1, "invitation", "body", ["someone@example.org"])
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        result = DBTaskResult.objects.get()
        assert result.status == "FAILED" and not SentMail.objects.exists()
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        DBTaskResult.objects.filter(pk=result.pk).update(status="READY")
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        assert DBTaskResult.objects.get().status == "SUCCESSFUL" and len(mail.outbox) == 1


class RefusingBackend:
    """A mail backend whose server refuses every message."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def send_messages(self, messages: object) -> int:
        raise ConnectionRefusedError("the mail server refused the connection")


@transactional
def test_healthz_says_degraded_while_a_live_worker_waits_for_its_database(settings) -> None:  # type: ignore[no-untyped-def]
    settings.TASKS_BACKEND = "database"
    with override_settings(TASKS=DB_TASKS):
        now = timezone.now()
        beat = WorkerHeartbeat.objects.create(worker_id="w1", hostname="h", pid=1, started_at=now,
                                              seen_at=now)
        assert report()[0]["worker"] == "ok"
        beat.state, beat.reason = "degraded", "database unavailable (OperationalError)"
        beat.save()
        health, code = report()
        assert (health["worker"], health["status"], code) == ("degraded", "degraded", 200)
