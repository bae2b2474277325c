"""Operators' view over real processes: gunicorn with two workers (DEBUG off, LOG_FORMAT=json,
the Procfile's gunicorn.conf.py) and the Procfile's db_worker, on a throwaway PostgreSQL and
Redis. /metrics is parsed with prometheus_client's parser after traffic through both workers;
the JSON access lines of a real request are read from the server's output; /healthz follows
the worker as it stops; Sentry's envelopes reach a loopback HTTP server for a forced error;
OpenTelemetry's in-memory exporter collects the spans of a real request.
"""

from __future__ import annotations

import http.server
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.http_stack import ROOT, ROOT_DOMAIN, Browser, Tenant, gunicorn, production_env, seed
from tests.support.services import posted_body, postgres_server, redis_server, stop_process

pytestmark = pytest.mark.services  # starts throwaway servers or processes: slow


@dataclass
class Stack:
    port: int
    env: dict[str, str]
    log: Path
    metrics_dir: Path
    tenant: Tenant

    def health(self) -> dict:
        reply = Browser(self.port, ROOT_DOMAIN).get("/healthz")
        assert reply.status == 200, (reply.status, reply.text)
        return reply.json()

    def metrics(self) -> dict[str, list]:
        reply = Browser(self.port, ROOT_DOMAIN).get("/metrics")
        assert reply.status == 200, reply.status
        return {f.name: f.samples for f in text_string_to_metric_families(reply.text)}

    def run(self, script: str, *args: str, **env: str) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env={**self.env, **env},
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        return done


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("ops-stack")
    with postgres_server() as postgres, redis_server() as redis:
        env = production_env(tmp, postgres.url, redis.url)
        metrics_dir = tmp / "metrics"
        env.update(LOG_FORMAT="json", WORKER_HEARTBEAT_INTERVAL="0.5", WORKER_HEARTBEAT_MAX_AGE="3",
                   USAGE_FLUSH_INTERVAL="1")
        (tenant,) = seed(env, ["Ops Inc"])
        log = tmp / "gunicorn.log"
        # the web processes' metrics directory (gunicorn.conf.py makes a temporary one if unset)
        with gunicorn({**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)}, log, workers=2) as port:
            yield Stack(port, env, log, metrics_dir, tenant)


def wait_for(predicate, what: str, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def sample_sum(families: dict[str, list], family: str, sample: str, **labels: str) -> float:
    return sum(s.value for s in families.get(family, []) if s.name == sample
               and all(s.labels.get(k) == v for k, v in labels.items()))


def test_metrics_add_up_every_workers_requests(stack: Stack):
    home = {"host_kind": "tenant", "view": "home", "method": "GET", "status": "2xx"}
    requests = ("smarter_http_request_duration_seconds", "smarter_http_request_duration_seconds_count")
    before = sample_sum(stack.metrics(), *requests, **home)

    def hit(_: int) -> int:
        return Browser(stack.port, stack.tenant.host).get("/").status

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(hit, range(60))) == {200}
    pids = {p.stem.rsplit("_", 1)[-1] for p in stack.metrics_dir.glob("histogram_*.db")}
    assert len(pids) >= 2, pids  # both workers counted requests, in their own files
    families = stack.metrics()
    assert sample_sum(families, *requests, **home) == before + 60
    assert sample_sum(families, "smarter_http_request_duration_seconds",
                      "smarter_http_request_duration_seconds_bucket", le="+Inf", **home) == before + 60
    assert stack.tenant.number not in json.dumps([s.labels for f in families.values() for s in f])
    assert sample_sum(families, "smarter_cache_push_subscribed", "smarter_cache_push_subscribed") >= 1


def test_json_access_lines_of_a_real_request(stack: Stack):
    browser = Browser(stack.port, stack.tenant.workspace_host)
    assert browser.get("/?token=never-logged-4711", **{"X-Request-ID": "stack-req-0001",
                                                       "User-Agent": "ops-test"}).status == 200
    assert Browser(stack.port, stack.tenant.host).get(
        "/missing/", **{"X-Request-ID": "stack-req-0404"}).status == 404

    def lines() -> list[dict]:
        found = []
        for raw in stack.log.read_text(errors="replace").splitlines():
            if raw.startswith("{"):
                found.append(json.loads(raw))
        return [r for r in found if r.get("request_id") in {"stack-req-0001", "stack-req-0404"}]

    records = wait_for(lambda: len(lines()) >= 3 and lines(), "the log lines")
    access = [r for r in records if r["logger"] == "smarter.access"]
    ok = next(r for r in access if r["request_id"] == "stack-req-0001")
    assert {k: ok[k] for k in ("level", "method", "host_kind", "account", "workspace", "view",
                               "status", "path", "client_ip", "user_id")} == {
        "level": "info", "method": "GET", "host_kind": "tenant", "account": stack.tenant.number,
        "workspace": "launchpad", "view": "home", "status": 200, "path": "/",
        "client_ip": "127.0.0.1", "user_id": None}
    assert ok["duration_ms"] > 0 and ok["time"]
    missing = [r for r in records if r["request_id"] == "stack-req-0404"]
    assert {r["logger"] for r in missing} == {"smarter.access", "django.request"}
    assert all(r["account"] == stack.tenant.number for r in missing)
    assert "never-logged-4711" not in stack.log.read_text(errors="replace")


ENQUEUE = """
import sys
import django
django.setup()
from accounts.models import Account
from accounts.tasks import send_email
account = Account.objects.get(account_number=sys.argv[1])
send_email.enqueue(account.pk, "ops subject", "ops body", ["ops@example.com"])
"""


@contextmanager
def db_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """The Procfile's worker (polling every 0.2 s), stopped with SIGTERM as Heroku does."""
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "db_worker", "--interval", "0.2", "--no-startup-delay"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield worker
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(15)
        finally:
            stop_process(worker)


def test_healthz_follows_the_worker_and_the_queue(stack: Stack, tmp_path: Path):
    assert stack.health()["worker"] == "missing"
    with db_worker(stack.env, tmp_path / "worker.log"):
        health = wait_for(lambda: (h := stack.health())["status"] == "ok" and h, "a live worker")
        assert (health["worker"], health["workers"], health["push"]) == ("ok", 1, "ok")
        stack.run(ENQUEUE, stack.tenant.number)
        wait_for(lambda: stack.health()["queue"]["queued"] == 0, "the task to run")
        assert "ops subject" in (tmp_path / "worker.log").read_text()
    health = stack.health()  # 200: the site serves, tasks wait
    assert (health["worker"], health["status"]) == ("missing", "degraded")
    stack.run(ENQUEUE, stack.tenant.number)
    time.sleep(1.1)
    health = stack.health()
    assert health["queue"]["queued"] == 1 and health["queue"]["oldest_age_seconds"] >= 1
    families = stack.metrics()
    assert sample_sum(families, "smarter_tasks", "smarter_tasks", state="queued") == 1
    assert sample_sum(families, "smarter_task_workers_live", "smarter_task_workers_live") == 0
    assert sample_sum(families, "smarter_tasks_oldest_queued_age_seconds",
                      "smarter_tasks_oldest_queued_age_seconds") >= 1


class _Envelopes(http.server.BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802
        type(self).received.append(posted_body(self))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


FORCED_ERROR = """
import sys
from unittest import mock
import django
django.setup()
from operations import telemetry
telemetry.setup()
import sentry_sdk
from django.contrib.auth.models import User
from django.test import Client
client = Client(HTTP_HOST=sys.argv[1], raise_request_exception=False)
client.force_login(User.objects.get(username=sys.argv[2]))
with mock.patch("workspaces.views.render", side_effect=RuntimeError("forced for sentry")):
    response = client.get("/?token=sentry-secret-4711", secure=True,
                          HTTP_X_REQUEST_ID="sentry-req-0001")
assert response.status_code == 500, response.status_code
sentry_sdk.flush(10)
"""


def envelope_items(raw: bytes) -> list[dict]:
    """The JSON items of one Sentry envelope (header line, then item header/payload pairs)."""
    lines = raw.split(b"\n")
    items = []
    for i in range(1, len(lines) - 1, 2):
        header = json.loads(lines[i] or b"{}")
        if header.get("type") == "event":
            items.append(json.loads(lines[i + 1]))
    return items


def test_a_forced_error_reaches_sentry_with_tenant_tags_and_admins_by_mail(stack: Stack):
    _Envelopes.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Envelopes)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        done = stack.run(
            FORCED_ERROR, stack.tenant.host, stack.tenant.username,
            SENTRY_DSN=f"http://publickey@127.0.0.1:{server.server_port}/1",
            ADMINS="Ops <ops@example.com>")
    finally:
        server.shutdown()
        server.server_close()
    events = [e for raw in _Envelopes.received for e in envelope_items(raw)]
    assert len(events) == 1, _Envelopes.received
    event = events[0]
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert {k: event["tags"][k] for k in ("account", "host_kind", "request_id", "workspace")} == {
        "account": stack.tenant.number, "host_kind": "tenant", "request_id": "sentry-req-0001",
        "workspace": "-"}
    assert set(event["user"]) == {"id", "member_id"}  # no email, no name without SENTRY_SEND_PII
    raw = b"".join(_Envelopes.received).decode(errors="replace")
    assert "sentry-secret-4711" not in raw and "@stack.test" not in raw
    # ADMINS got the 500 by mail (printed by the console backend), without the token
    assert "Internal Server Error: /" in done.stdout and "ops@example.com" in done.stdout
    assert "sentry-secret-4711" not in done.stdout


TRACED = """
import json, sys
import django
django.setup()
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from operations import telemetry
exporter = InMemorySpanExporter()
telemetry.init_tracing(exporter)
from django.core.cache import cache
cache.clear()  # a cold tenant: its lookups go to Redis, then PostgreSQL
from django.test import Client
response = Client(HTTP_HOST=sys.argv[1]).get("/", secure=True, HTTP_X_REQUEST_ID="trace-req-0001")
assert response.status_code == 200, response.status_code
print(json.dumps([{"name": s.name, "kind": s.kind.name, "attributes": dict(s.attributes or {}),
                   "trace": s.context.trace_id} for s in exporter.get_finished_spans()]))
"""


def test_traces_of_a_real_request_carry_the_tenant(stack: Stack):
    done = stack.run(TRACED, stack.tenant.workspace_host, OTEL_SERVICE_NAME="smarter-test")
    spans = json.loads(done.stdout.strip().splitlines()[-1])
    (server,) = [s for s in spans if s["kind"] == "SERVER"]
    assert server["attributes"]["account.number"] == stack.tenant.number
    assert server["attributes"]["workspace"] == "launchpad"
    assert server["attributes"]["request.id"] == "trace-req-0001"
    assert server["attributes"]["http.response.status_code" if "http.response.status_code"
                                 in server["attributes"] else "http.status_code"] == 200
    # the cold tenant's lookups, traced as children of the request (one trace)
    clients = [s for s in spans if s["kind"] == "CLIENT" and s["trace"] == server["trace"]]
    systems = {s["attributes"].get("db.system") or s["attributes"].get("db.system.name")
               for s in clients}
    assert {"postgresql", "redis"} <= systems, systems


# --- the task worker: errors to Sentry, task spans over OTLP ----------------------------------
ENQUEUE_FAILING = """
import sys
import django
django.setup()
from accounts.models import Account
from accounts.tasks import send_email
account = Account.objects.get(account_number=sys.argv[1])
send_email.enqueue(account.pk, "never sent", "body", [])  # no recipient: the task raises
"""


class _Traces(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP collector on loopback: keeps each export request's spans."""

    spans: list = []

    def do_POST(self) -> None:  # noqa: N802
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

        request = ExportTraceServiceRequest()
        request.ParseFromString(posted_body(self))
        for resource_spans in request.resource_spans:
            for scope_spans in resource_spans.scope_spans:
                type(self).spans.extend(scope_spans.spans)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def loopback_server(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _status(span) -> str:  # type: ignore[no-untyped-def]
    return next((a.value.string_value for a in span.attributes if a.key == "task.status"), "")


def _mail_task_spans() -> list:
    """The exported spans of ``send_email`` tasks (the worker may also run mails and other
    tasks that the stack's set-up queued, before or after the two this test enqueues)."""
    return [s for s in _Traces.spans if s.name.startswith("task ") and any(
        a.key == "task.path" and a.value.string_value == "accounts.tasks.send_email"
        for a in s.attributes)]


def test_the_task_worker_reports_a_failed_task_to_sentry_and_exports_task_spans(
        stack: Stack, tmp_path: Path):
    _Envelopes.received, _Traces.spans = [], []
    sentry, collector = loopback_server(_Envelopes), loopback_server(_Traces)
    env = {**stack.env, "SENTRY_DSN": f"http://publickey@127.0.0.1:{sentry.server_port}/1",
           "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector.server_port}",
           "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_SERVICE_NAME": "smarter-worker-test"}
    try:
        stack.run(ENQUEUE, stack.tenant.number)  # one that succeeds
        stack.run(ENQUEUE_FAILING, stack.tenant.number)  # one that fails
        with db_worker(env, tmp_path / "worker.log"):
            wait_for(lambda: stack.health()["queue"]["queued"] == 0, "both tasks to run")
            events = wait_for(lambda: [e for raw in _Envelopes.received for e in envelope_items(raw)],
                              "the failed task's Sentry event")
            tasks = wait_for(lambda: _mail_task_spans() if {
                _status(s) for s in _mail_task_spans()} >= {"SUCCESSFUL", "FAILED"} else None,
                "a succeeded and a failed mail task's spans")
    finally:
        for server in (sentry, collector):
            server.shutdown()
            server.server_close()
    (event,) = events  # the failure only, once
    assert event["exception"]["values"][-1]["type"] == "ValueError"
    assert "send_email needs at least one recipient" in event["exception"]["values"][-1]["value"]
    assert event["tags"]["task"] == "accounts.tasks.send_email"
    assert event["tags"]["task_id"] and event["tags"]["queue"] == "default"
    assert "never sent" not in json.dumps(event.get("tags", {}))  # arguments are not tags

    from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

    def attributes(span) -> dict:  # type: ignore[no-untyped-def]
        return {a.key: a.value.string_value for a in span.attributes}

    assert all(s.kind == Span.SPAN_KIND_CONSUMER for s in tasks)
    by_status = {attributes(s)["task.status"]: s for s in tasks}
    assert set(by_status) == {"SUCCESSFUL", "FAILED"}, by_status.keys()
    failed, ok = by_status["FAILED"], by_status["SUCCESSFUL"]
    assert attributes(failed)["task.path"] == "accounts.tasks.send_email"
    assert failed.status.code == Status.STATUS_CODE_ERROR
    assert any(e.name == "exception" for e in failed.events)
    assert ok.status.code != Status.STATUS_CODE_ERROR
    # the task's own queries are children of its span (one trace per task)
    children = [s for s in _Traces.spans if s.trace_id == ok.trace_id and s.parent_span_id == ok.span_id]
    assert children, "no child span under the task's span"


# --- gunicorn's own lines -----------------------------------------------------------------------
def test_gunicorn_s_own_start_and_stop_lines_are_json_and_its_access_log_stays_off(
        stack: Stack, tmp_path: Path):
    log = tmp_path / "gunicorn-own.log"
    env = {**stack.env, "LOG_FORMAT": "json", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    with gunicorn(env, log, workers=1) as port:
        assert Browser(port, stack.tenant.host).get("/?token=gunicorn-secret-4711").status == 200
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # every line is JSON: none left plain
    own = [r for r in records if r["logger"] == "gunicorn.error"]
    events = " | ".join(r["event"] for r in own)
    for expected in ("Starting gunicorn", "Listening at", "Booting worker", "Shutting down: Master"):
        assert expected in events, events
    assert all(r["time"] and r["level"] for r in own)
    # the fields every JSON line has, "-" outside a request
    assert all((r["request_id"], r["account"], r["workspace"]) == ("-", "-", "-") for r in own)
    assert not [r for r in records if r["logger"] == "gunicorn.access"]  # the app logs requests
    assert [r for r in records if r["logger"] == "smarter.access" and r["path"] == "/"]
    assert "gunicorn-secret-4711" not in log.read_text(errors="replace")


def test_gunicorn_s_own_lines_stay_plain_by_default(stack: Stack, tmp_path: Path):
    log = tmp_path / "gunicorn-plain.log"
    env = {**stack.env, "LOG_FORMAT": "plain", "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    with gunicorn(env, log, workers=1):
        pass
    text = log.read_text(errors="replace")
    assert "[INFO] Starting gunicorn" in text and "Shutting down: Master" in text
    assert not text.lstrip().startswith("{")
