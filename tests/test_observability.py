"""Operators' view, in-process: the request log lines (plain and JSON, through the project's
own filter and structlog formatter), secrets kept out of them, /metrics and who may read it,
per-account daily usage (console and API), /healthz's worker and queue verdicts, and the
platform's tasks page. The same over real gunicorn processes: tests/test_operations_stack.py.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client.parser import text_string_to_metric_families

from accounts import usage
from accounts.models import DailyActiveMember, DailyUsage
from accounts.tasks import send_email
from middleware.request_id import RequestIdLogFilter
from operations.models import WorkerHeartbeat
from smarter.log_filters import json_formatter
from tenancy.tasks import tenant_task
from tests.conftest import host_client
from tests.support.api_support import api_for

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What the console handler would print with LOG_FORMAT=json: the project's filter and
    formatter on a handler of the root logger, INFO and up."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level, root.level = root.level, logging.INFO
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.level = level


def records(out: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_one_json_access_line_per_request_with_tenant_and_request_id(tenant_a, log_lines):
    client = host_client(tenant_a.workspace_host("nope"), tenant_a.member.user)
    client.get("/", HTTP_X_REQUEST_ID="req-obs-0001")  # no such workspace: 404
    response = host_client(tenant_a.host, tenant_a.member.user).get(
        "/", HTTP_X_REQUEST_ID="req-obs-0002", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 200
    lines = records(log_lines)
    access = [r for r in lines if r["logger"] == "smarter.access"]
    mine = [r for r in access if r["request_id"] == "req-obs-0002"]
    assert len(mine) == 1
    line = mine[0]
    assert line["level"] == "info" and line["time"].endswith("Z")
    assert {k: line[k] for k in ("method", "host_kind", "account", "workspace", "view", "status",
                                 "user_id", "client_ip", "path")} == {
        "method": "GET", "host_kind": "tenant", "account": tenant_a.account.account_number,
        "workspace": "-", "view": "home", "status": 200, "user_id": tenant_a.member.user.pk,
        "client_ip": "203.0.113.9", "path": "/"}
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] > 0
    # the 404's own warnings (Django logs them after the middleware chain returned) carry the
    # request id too, not "-"
    warnings = [r for r in lines if r["level"] == "warning" and r["request_id"] == "req-obs-0001"]
    assert warnings, [r for r in lines if r["level"] == "warning"]
    assert all(r["request_id"] != "-" for r in lines if r["logger"] == "django.request")


def test_a_refused_permission_is_one_warning_without_traceback(tenant_a, tenant_b, log_lines):
    response = host_client(tenant_a.host, tenant_a.member.user).get(
        "/console/", HTTP_X_REQUEST_ID="req-obs-0403")
    assert response.status_code == 403
    refused = [r for r in records(log_lines) if r["logger"] == "django.request"]
    assert [r["event"] for r in refused] == ["Forbidden (Permission denied): /console/"]
    assert refused[0]["request_id"] == "req-obs-0403"
    assert refused[0]["account"] == tenant_a.account.account_number
    assert "exception" not in refused[0] and "Traceback" not in log_lines.getvalue()


def test_tokens_in_paths_and_query_strings_never_reach_the_log(tenant_a, log_lines):
    secret = "s3cr3t-T0ken-value-that-must-not-leak"
    client = host_client(tenant_a.host, tenant_a.admin.user)
    client.get(f"/console/exports/999/download/?token={secret}&x=1")  # 404: no such export
    client.get(f"/invitations/{secret}/")
    client.get(f"/accounts/handoff/{secret}/")
    api_for(tenant_a.admin).get(f"workspaces/?api_key={secret}")
    text = log_lines.getvalue()
    assert secret not in text
    assert "token=[redacted]" in text or "/download/" in text
    assert "/invitations/[redacted]" in text


@tenant_task
def log_from_a_tenant_task(account_id: int) -> None:
    logging.getLogger("tests.tenant_task").warning("a tenant task's line")


def test_a_tenant_task_s_lines_carry_its_account(tenant_a, log_lines):
    """Outside a request, the account is the one the running tenant task is about."""
    log_from_a_tenant_task.enqueue(tenant_a.account.pk)
    (line,) = [r for r in records(log_lines) if r["logger"] == "tests.tenant_task"]
    assert line["account"] == tenant_a.account.account_number
    assert line["request_id"] == "-" and line["workspace"] == "-"
    logging.getLogger("tests.tenant_task").warning("after the task")
    assert records(log_lines)[-1]["account"] == "-"


def test_json_lines_without_the_request_filter_carry_the_fields_as_dashes():
    """gunicorn's own lines (its handler has no request filter) have the fields every JSON
    line has, ``-`` where there is no request."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(json_formatter())
    logger = logging.getLogger("gunicorn.error.test")
    logger.addHandler(handler)
    try:
        logger.warning("Worker with pid %s was terminated", 4711)
    finally:
        logger.removeHandler(handler)
    (line,) = records(out)
    assert line["event"] == "Worker with pid 4711 was terminated"
    assert (line["request_id"], line["account"], line["workspace"]) == ("-", "-", "-")


def test_an_uncaught_exception_is_one_json_line(tmp_path):
    """A process that dies of an exception (the worker, a command) says so in one JSON line
    with the exception, redacted, instead of a plain traceback in a JSON log."""
    import os
    import subprocess
    import sys

    from tests.support.http_stack import ROOT

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "LOG_FORMAT": "json",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    for name in ("REDIS_URL", "DATABASE_POOL"):  # the suite's (PgBouncer needs postgres://)
        env.pop(name, None)
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c",
         "raise RuntimeError('worker died reading postgres://app:hunter2@db.internal/app')"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    records_ = [json.loads(line) for line in lines]  # every line is JSON
    (crash,) = [r for r in records_ if "exception" in r]
    assert crash["level"] == "critical" and crash["event"].startswith("uncaught exception")
    assert "RuntimeError: worker died" in crash["exception"]
    assert crash["request_id"] == "-" and crash["account"] == "-"
    assert "hunter2" not in done.stderr


def test_plain_text_lines_carry_the_request_id(tenant_a):
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.addFilter(RequestIdLogFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s [%(request_id)s] [%(account)s] %(message)s"))
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        host_client(tenant_a.host).get("/no-such-page/", HTTP_X_REQUEST_ID="req-plain-404")
    finally:
        logger.removeHandler(handler)
    assert out.getvalue().strip() == (
        f"WARNING [req-plain-404] [{tenant_a.account.account_number}] Not Found: /no-such-page/")


# --- /metrics --------------------------------------------------------------------------------
def scrape(**extra: str) -> dict[str, list]:
    response = host_client("localhost").get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    return {f.name: f.samples for f in text_string_to_metric_families(response.content.decode())}


def test_metrics_count_requests_by_kind_view_and_status_class_without_accounts(tenant_a, tenant_b):
    def served(view: str, status: str) -> float:
        return sum(s.value for s in scrape()["smarter_http_request_duration_seconds"]
                   if s.name.endswith("_count") and s.labels["view"] == view
                   and s.labels["host_kind"] == "tenant" and s.labels["status"] == status)

    before_ok, before_missing = served("home", "2xx"), served("-", "4xx")
    for tenant in (tenant_a, tenant_b):
        host_client(tenant.host).get("/")
        host_client(tenant.host).get("/no-such-page/")
    assert served("home", "2xx") == before_ok + 2
    assert served("-", "4xx") == before_missing + 2
    text = host_client("localhost").get("/metrics").content.decode()
    for tenant in (tenant_a, tenant_b):
        assert tenant.account.account_number not in text  # no account label, ever
    families = scrape()
    assert "smarter_http_request_duration_seconds" in families
    assert {"smarter_tenant_cache_lookups", "smarter_signin_failures", "smarter_tasks",
            "smarter_tasks_oldest_queued_age_seconds"} <= set(families)


def test_the_metrics_process_id_follows_a_fork():
    """prometheus_client names each process's value file after ``process_id()``: a forked
    worker must not keep its parent's (two workers would write one file)."""
    import os

    from tenancy.metrics import process_id

    assert process_id() == os.getpid()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe and exits
        os.write(write, f"{process_id()} {os.getpid()}".encode())
        os._exit(0)
    os.close(write)
    reported = os.read(read, 64).decode().split()
    os.close(read)
    os.waitpid(child, 0)
    assert reported[0] == reported[1] and int(reported[0]) == child


def test_metrics_need_loopback_or_the_token(db, settings):
    outside = host_client("localhost")
    assert outside.get("/metrics", REMOTE_ADDR="198.51.100.7").status_code == 403
    settings.METRICS_TOKEN = "metrics-token-0123456789"
    assert outside.get("/metrics", REMOTE_ADDR="198.51.100.7",
                       HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert outside.get("/metrics", REMOTE_ADDR="198.51.100.7",
                       HTTP_AUTHORIZATION="Bearer metrics-token-0123456789").status_code == 200
    # a proxy on the same machine does not make its clients loopback
    settings.TRUSTED_PROXIES = 1
    assert outside.get("/metrics", REMOTE_ADDR="127.0.0.1",
                       HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 403
    assert outside.get("/metrics", REMOTE_ADDR="127.0.0.1",
                       HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 200


def test_failed_sign_ins_are_counted(tenant_a):
    def failures() -> float:
        return sum(s.value for s in scrape()["smarter_signin_failures"]
                   if s.name.endswith("_total") and s.labels["kind"] == "password")

    before = failures()
    host_client(tenant_a.host).post("/login/", {"login": tenant_a.member.user.username,
                                                "password": "wrong password"})
    assert failures() == before + 1


# --- per-account daily usage ------------------------------------------------------------------
@pytest.fixture
def fresh_usage() -> Iterator[None]:
    usage.discard()
    yield
    usage.discard()


def test_usage_is_counted_per_account_and_written_in_one_upsert_per_account(
        tenant_a, tenant_b, fresh_usage):
    for _ in range(3):
        host_client(tenant_a.host, tenant_a.member.user).get("/")
    api_for(tenant_a.admin).get("workspaces/")
    host_client(tenant_b.host).get("/")
    with CaptureQueriesContext(connection) as queries:  # counting is in memory
        host_client(tenant_b.host).get("/")
    assert not [q for q in queries.captured_queries if "daily" in q["sql"].lower()]
    # one transaction per account: savepoint/upsert/insert of members (SQLite and PostgreSQL)
    assert usage.flush() == 2
    a = DailyUsage.objects.get(account=tenant_a.account)
    assert (a.requests, a.api_calls) == (4, 1)
    assert DailyUsage.objects.get(account=tenant_b.account).requests == 2
    assert set(DailyActiveMember.objects.filter(account=tenant_a.account)
               .values_list("member_id", flat=True)) == {tenant_a.member.pk, tenant_a.admin.pk}
    host_client(tenant_a.host).get("/")  # the next flush adds to the day's row
    usage.flush()
    assert DailyUsage.objects.get(account=tenant_a.account).requests == 5
    assert DailyActiveMember.objects.filter(account=tenant_b.account).count() == 0


def test_usage_is_shown_in_the_console_and_the_api_to_admins_only(tenant_a, tenant_b, fresh_usage):
    api_for(tenant_a.admin).get("workspaces/")
    host_client(tenant_b.host).get("/")
    usage.flush()
    page = host_client(tenant_a.host, tenant_a.admin.user).get("/console/")
    assert page.status_code == 200
    html = page.content.decode()
    today = timezone.now().date().isoformat()
    assert 'id="usage"' in html and f"<td>{today}</td><td>1</td><td>1</td><td>1</td>" in html
    body = api_for(tenant_a.admin).get("usage/").json()
    assert body["results"][0] == {"day": today, "requests": 1, "api_calls": 1, "active_members": 1}
    assert api_for(tenant_a.member).get("usage/").status_code == 403
    assert api_for(tenant_a.admin).get("usage/?days=0").status_code == 400
    assert api_for(tenant_a.admin).get("usage/?days=x").status_code == 400
    # tenant b's figures never show on a's host
    assert all(day["requests"] == 1 for day in body["results"])


# --- health and the tasks page ----------------------------------------------------------------
def queue_task() -> DBTaskResult:
    with override_settings(TASKS=DB_TASKS, TASKS_BACKEND="database"):
        result = send_email.enqueue(None, "subject", "body", ["ops@example.com"])
    return DBTaskResult.objects.get(pk=result.id)


def test_healthz_is_degraded_without_a_worker_and_ok_with_one(db, settings):
    settings.TASKS, settings.TASKS_BACKEND = DB_TASKS, "database"
    client = host_client("localhost")
    health = client.get("/healthz")
    assert health.status_code == 200
    assert (health.json()["worker"], health.json()["status"]) == ("missing", "degraded")
    WorkerHeartbeat.objects.create(worker_id="w1", hostname="h", pid=1, started_at=timezone.now(),
                                   seen_at=timezone.now())
    assert client.get("/healthz").json()["status"] == "ok"
    WorkerHeartbeat.objects.update(seen_at=timezone.now() - timedelta(minutes=5))  # a stale beat
    assert client.get("/healthz").json()["worker"] == "missing"
    WorkerHeartbeat.objects.update(seen_at=timezone.now())
    task = queue_task()
    DBTaskResult.objects.filter(pk=task.pk).update(enqueued_at=timezone.now() - timedelta(hours=1))
    health = client.get("/healthz").json()
    assert health["queue"]["queued"] == 1 and health["queue"]["oldest_age_seconds"] >= 3599
    assert health["status"] == "degraded"  # the queue is older than TASKS_QUEUE_MAX_AGE


def test_tasks_page_is_for_platform_superusers_and_retries_a_failed_task(platform, tenant_a):
    task = queue_task()
    DBTaskResult.objects.filter(pk=task.pk).update(status=TaskResultStatus.FAILED,
                                                    exception_class_path="smtplib.SMTPException")
    superuser = host_client("localhost", platform.admin.user)
    page = superuser.get("/ops/tasks/?state=failed")
    assert page.status_code == 200
    assert "accounts.tasks.send_email" in page.content.decode()
    assert "smtplib.SMTPException" in page.content.decode()
    for client in (host_client("localhost", platform.member.user), host_client("localhost"),
                   host_client(tenant_a.host, tenant_a.admin.user)):
        assert client.get("/ops/tasks/").status_code == 404
        assert client.post(f"/ops/tasks/{task.pk}/retry/").status_code == 404
    with override_settings(TASKS=DB_TASKS, TASKS_BACKEND="database"):
        assert superuser.post(f"/ops/tasks/{task.pk}/retry/").status_code == 302
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY,
                                       task_path="accounts.tasks.send_email").count() == 1
    assert mail.outbox == []  # queued, not run


def test_admins_are_mailed_a_500(tenant_a, settings, monkeypatch):
    settings.ADMINS = [("Ops", "ops@example.com")]
    monkeypatch.setattr("workspaces.views.render", lambda *a, **k: 1 / 0)
    client = host_client(tenant_a.host)
    client.raise_request_exception = False
    assert client.get("/?token=mail-secret-token").status_code == 500
    assert [m.to for m in mail.outbox] == [["ops@example.com"]]
    assert "Internal Server Error: /" in mail.outbox[0].subject
    assert "ZeroDivisionError" in mail.outbox[0].body
    assert "mail-secret-token" not in mail.outbox[0].body + mail.outbox[0].subject
