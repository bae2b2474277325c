"""Secrets never leave the process: a database outage with known passwords in ``DATABASE_URL``,
``REDIS_URL``, ``SENTRY_DSN`` and ``EMAIL_URL``, and everything the web and the worker send out
captured: Sentry envelopes (the real sentry-sdk transport, to a loopback stand-in), error mails
(Django's SMTP backend, to a loopback SMTP stand-in), the JSON log lines, and the spans (the
real OTLP/HTTP exporter, to the same loopback stand-in). None of them may carry a password.

The database and Redis are ports where nothing listens; the web process loads the app as
gunicorn does (``smarter.wsgi``: start-up checks, Sentry and tracing) and serves a tenant page,
the API, the health check and a sign-in whose form carries a typed password; the worker is the
Procfile's ``manage.py db_worker``, whose start-up reaps stale tasks.

Sentry's envelope *header* carries the DSN to the server it names (that is its address and its
credential by design); only the envelope's items (events, transactions) are searched.
"""

from __future__ import annotations

import email
import http.server
import json
import os
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.services import free_port, posted_body

ROOT = Path(__file__).resolve().parent.parent
HOST = "3141-5926-5359.alpha.api.example.com"
DB_PASSWORD = "Db-Pw-4711-zyxwvu"
REDIS_PASSWORD = "Redis-Pw-4711-tsrqpo"
SENTRY_KEY = "SentryKey4711nmlkji"
MAIL_PASSWORD = "Mail-Pw-4711-hgfedc"
TYPED_PASSWORD = "Typed-Pw-4711-bazqux"  # a sign-in form's field
SECRETS = (DB_PASSWORD, REDIS_PASSWORD, SENTRY_KEY, MAIL_PASSWORD, TYPED_PASSWORD)


@dataclass
class Received:
    """What the stand-ins received, decoded."""

    envelope_items: list[bytes] = field(default_factory=list)
    spans: list[bytes] = field(default_factory=list)
    mails: list[str] = field(default_factory=list)


class _Collector(http.server.BaseHTTPRequestHandler):
    """Sentry's envelope endpoint and an OTLP/HTTP collector on one loopback port."""

    received: Received

    def do_POST(self) -> None:  # noqa: N802
        body = posted_body(self)
        if self.path.startswith("/v1/traces"):
            self.received.spans.append(body)
        else:  # an envelope: a header line, then item header / payload lines
            self.received.envelope_items.extend(body.split(b"\n")[1:])
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


class _Smtp(socketserver.StreamRequestHandler):
    """Just enough SMTP for Django's backend: EHLO with AUTH, MAIL, RCPT, DATA, QUIT."""

    received: Received

    def handle(self) -> None:
        self.wfile.write(b"220 stand-in ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-stand-in\r\n250 AUTH PLAIN LOGIN\r\n")
            elif verb == b"AUTH":  # the mail server's own credential: not searched
                self.wfile.write(b"235 accepted\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go on\r\n")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk)
                message = email.message_from_bytes(b"".join(data))
                parts = [message.as_string()] + [
                    part.get_payload(decode=True).decode(errors="replace")
                    for part in message.walk() if not part.is_multipart()]
                self.received.mails.append("\n".join(parts))
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@pytest.fixture
def stand_ins() -> Iterator[tuple[Received, int, int]]:
    received = Received()
    collector_handler = type("Collector", (_Collector,), {"received": received})
    smtp_handler = type("Smtp", (_Smtp,), {"received": received})
    collector = http.server.ThreadingHTTPServer(("127.0.0.1", 0), collector_handler)
    smtp = socketserver.ThreadingTCPServer(("127.0.0.1", 0), smtp_handler)
    smtp.daemon_threads = True
    for server in (collector, smtp):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield received, collector.server_address[1], smtp.server_address[1]
    finally:
        for server in (collector, smtp):
            server.shutdown()
            server.server_close()


WEB = f"""
import sys
import smarter.wsgi  # as gunicorn loads the app: start-up checks, Sentry, tracing
import sentry_sdk
from django.test import Client

client = Client(HTTP_HOST={HOST!r}, raise_request_exception=False)
answers = [
    client.get("/", secure=True).status_code,
    client.get("/api/v1/workspaces/", secure=True,
               HTTP_AUTHORIZATION="Token sk_abc.def").status_code,
    client.get("/healthz", secure=True).status_code,
    client.post("/login/", {{"login": "someone", "password": {TYPED_PASSWORD!r}}},
                secure=True).status_code,
]
print("answers", answers, flush=True)
sentry_sdk.flush(10)
"""


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Collected static files (production serves hashed names from the manifest)."""
    root = str(tmp_path_factory.mktemp("static"))
    env = {**outage_env(0, 0, root), "SENTRY_DSN": "", "OTEL_EXPORTER_OTLP_ENDPOINT": ""}
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT,
                   env=env, check=True, capture_output=True, timeout=300)
    return root


def outage_env(collector_port: int, smtp_port: int, static_root: str) -> dict[str, str]:
    """Production settings on a database and a Redis that refuse connections, with every
    channel out of the process configured."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "DATABASE_POOL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(STATIC_ROOT=static_root,
        DEBUG="false", SECRET_KEY="outage-test-" + "k" * 50, ROOT_DOMAIN="example.com",
        DJANGO_SETTINGS_MODULE="smarter.settings", LOG_FORMAT="json", PYTHONUNBUFFERED="1",
        DATABASE_URL=f"postgres://app:{DB_PASSWORD}@127.0.0.1:{free_port()}/smarter",
        REDIS_URL=f"redis://:{REDIS_PASSWORD}@127.0.0.1:{free_port()}/0",
        SENTRY_DSN=f"http://{SENTRY_KEY}@127.0.0.1:{collector_port}/1",
        SENTRY_TRACES_SAMPLE_RATE="1.0",
        EMAIL_URL=f"smtp://mailer:{MAIL_PASSWORD}@127.0.0.1:{smtp_port}",
        ADMINS="Ops <ops@example.com>",
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{collector_port}",
        OTEL_BSP_SCHEDULE_DELAY="100", TASKS_BACKEND="database",
    )
    return env


def run_worker(env: dict[str, str], seconds: float) -> str:
    """The Procfile's worker for at most ``seconds`` (it may exit on the outage, or wait for
    the database), then SIGTERM; its output."""
    proc = subprocess.Popen([sys.executable, "manage.py", "db_worker", "--interval", "0.5"],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        out, _ = proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
    return out.decode(errors="replace")


@pytest.mark.services  # runs the web and the worker in processes
def test_a_database_outage_sends_no_password_anywhere(stand_ins, static_root):
    received, collector_port, smtp_port = stand_ins
    env = outage_env(collector_port, smtp_port, static_root)
    web = subprocess.run([sys.executable, "-c", WEB], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=180)
    assert web.returncode == 0, web.stdout[-2000:] + web.stderr[-4000:]
    assert "answers [503, 503, 503, 503]" in web.stdout, web.stdout + web.stderr[-3000:]
    worker_log = run_worker(env, seconds=20)
    # the worker met the outage too: it waits for the database and says so (a warning in its
    # log, which carries the error's first line: the channel this test reads for secrets)
    assert "database unavailable" in worker_log, worker_log[-3000:]

    # every channel was used: otherwise finding no password would prove nothing
    events = [json.loads(item) for item in received.envelope_items
              if item.startswith(b"{") and b'"exception"' in item]
    assert events, received.envelope_items[:4]
    frames = [frame for event in events for value in event["exception"]["values"]
              for frame in (value.get("stacktrace") or {}).get("frames", [])]
    assert any(frame.get("vars") for frame in frames)  # local variables are sent, scrubbed
    assert any("psycopg" in (frame.get("module") or "") for frame in frames)
    assert received.mails and any("DATABASE_URL" in mail for mail in received.mails)
    assert received.spans
    logs = web.stdout + web.stderr
    assert "database unavailable" in logs
    assert worker_log.strip()
    assert any(json.loads(line)["logger"] for line in web.stderr.splitlines()
               if line.startswith("{"))  # JSON lines

    channels = {
        "sentry": b"\n".join(received.envelope_items).decode(errors="replace"),
        "spans": b"\n".join(received.spans).decode(errors="replace"),
        "mail": "\n".join(received.mails),
        "web log": logs,
        "worker log": worker_log,
    }
    leaks = {(name, secret) for name, text in channels.items() for secret in SECRETS
             if secret in text}
    assert not leaks, leaks
    # what an operator needs is still there: the host of the database, redacted password
    assert "127.0.0.1" in channels["mail"] and "[redacted]" in channels["mail"]


@pytest.mark.services  # runs the web and the worker in processes
def test_error_mails_are_sent_once_per_distinct_error(stand_ins, static_root):
    """An outage answered 503 to every request (a health probe every few seconds) mails
    ADMINS once per ``ERROR_MAIL_INTERVAL`` per process, not once per request."""
    received, collector_port, smtp_port = stand_ins
    env = {**outage_env(collector_port, smtp_port, static_root), "SENTRY_DSN": "",
           "OTEL_EXPORTER_OTLP_ENDPOINT": ""}
    script = f"""
import smarter.wsgi
from django.test import Client
client = Client(HTTP_HOST={HOST!r}, raise_request_exception=False)
print("answers", sorted({{client.get(p, secure=True).status_code
                         for p in ["/healthz"] * 5}}))
"""
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert "answers [503]" in done.stdout, done.stdout + done.stderr[-3000:]
    subjects = [email.message_from_string(mail)["Subject"] for mail in received.mails]
    assert len(subjects) == 1, subjects
    assert "Service Unavailable: /healthz" in subjects[0]


# --- the rule itself, in-process ----------------------------------------------------------------
def test_redact_knows_secrets_by_shape_and_by_value(settings):
    from tenancy.redaction import redact

    settings.EMAIL_HOST_PASSWORD = "Configured-Mail-Secret-42"
    assert redact("postgres://app:s3cr3t@db.internal:5432/x") == "postgres://app:[redacted]@db.internal:5432/x"
    assert redact("host=db user=app password='a b' dbname=x") == (
        "host=db user=app password=[redacted] dbname=x")
    assert redact('{"db_password": "x1", "user": "app"}') == '{"db_password": [redacted], "user": "app"}'
    assert redact("auth failed for Configured-Mail-Secret-42 at smtp") == "auth failed for [redacted] at smtp"
    assert redact("smarter.access GET / 200 sessionid") == "smarter.access GET / 200 sessionid"


EARLY_LINE_THEN_SECRET = """
from django.conf import settings
from tenancy.redaction import redact
assert not settings.configured
redact("Starting gunicorn")  # gunicorn's arbiter logs before any setting is read
import django
django.setup()
print(redact("the DSN key {key} and the database password {password}"))
"""


def test_a_line_logged_before_the_settings_load_does_not_blind_the_process():
    """The arbiter's first lines go through the rule before Django is set up; the workers it
    forks must still know this process's secrets by value."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smarter.settings",
           "SENTRY_DSN": f"http://{SENTRY_KEY}@127.0.0.1:9/1",
           "DATABASE_URL": f"postgres://app:{DB_PASSWORD}@127.0.0.1:9/smarter"}
    code = EARLY_LINE_THEN_SECRET.format(key=SENTRY_KEY, password=DB_PASSWORD)
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "the DSN key [redacted] and the database password [redacted]"


def test_scrub_hides_values_named_like_secrets_and_keeps_the_structure():
    from tenancy.redaction import scrub

    event = {"exception": {"values": [{"stacktrace": {"frames": [{"vars": {
        "password": "'x'", "kwargs": {"password2": "y", "host": "db"}, "n": 3,
        "dsn": "'postgres://u:pw1234@h/x'"}}]}}]}, "tags": {"account": "-"}}
    frame = scrub(event)["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]
    assert frame == {"password": "[redacted]", "kwargs": {"password2": "[redacted]", "host": "db"},
                     "n": 3, "dsn": "[redacted]"}


def test_spans_are_exported_redacted():
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from operations.telemetry import RedactingSpanExporter

    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(RedactingSpanExporter(memory)))
    with provider.get_tracer("t").start_as_current_span("connect") as span:
        span.set_attribute("db.connection_string", "postgres://app:span-pw-1234@db/x")
        span.record_exception(RuntimeError("password=span-pw-1234 refused"))
    (exported,) = memory.get_finished_spans()
    assert "span-pw-1234" not in repr(dict(exported.attributes or {}))
    assert "span-pw-1234" not in repr([dict(e.attributes or {}) for e in exported.events])
    assert exported.attributes["db.connection_string"] == "postgres://app:[redacted]@db/x"


def test_the_error_mail_hides_urls_credentials_frame_secrets_and_posted_passwords(
        tenant_a, settings, monkeypatch):
    from django.core import mail

    from tests.conftest import host_client

    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.DATABASE_URL = "postgres://app:mail-db-pw-1234@db.internal/x"
    settings.REDIS_URL = "redis://:mail-redis-pw-1234@cache.internal/0"

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003
        db_password = "frame-local-pw-1234"  # noqa: F841, S105 - a local variable of the frame
        raise RuntimeError("boom")

    monkeypatch.setattr("workspaces.views.render", broken)
    client = host_client(tenant_a.host)
    client.raise_request_exception = False
    assert client.post("/", {"password": "posted-pw-1234"}).status_code in (403, 405, 500)
    assert client.get("/").status_code == 500
    body = "\n".join(m.body for m in mail.outbox)
    assert "RuntimeError" in body and "DATABASE_URL" in body and "db.internal" in body
    for secret in ("mail-db-pw-1234", "mail-redis-pw-1234", "frame-local-pw-1234", "posted-pw-1234"):
        assert secret not in body, secret


def test_distinct_errors_each_mail_and_a_repeated_one_does_not(tenant_a, settings, monkeypatch):
    from django.core import mail

    from tests.conftest import host_client

    settings.ADMINS = [("Ops", "ops@example.com")]
    settings.ERROR_MAIL_INTERVAL = 600
    client = host_client(tenant_a.host)
    client.raise_request_exception = False

    def first(*args, **kwargs):  # noqa: ANN002, ANN003
        raise RuntimeError("first")

    def second(*args, **kwargs):  # noqa: ANN002, ANN003
        raise KeyError("second")

    for broken in (first, first, second, first, second):
        monkeypatch.setattr("workspaces.views.render", broken)
        assert client.get("/").status_code == 500
    bodies = [m.body for m in mail.outbox]
    assert len(bodies) == 2, [m.subject for m in mail.outbox]
    assert "RuntimeError" in bodies[0] and "KeyError" in bodies[1]
