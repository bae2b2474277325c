"""Outages, end to end: a real gunicorn (DEBUG off) on its own throwaway PostgreSQL and Redis,
driven over HTTP with tenant Host headers while those servers are stopped and started again.

* Redis stopped mid-run: tenant pages, a signed-in console page and an API call keep
  answering 200 from the database, the ``tenancy.cache`` logger warns, ``/healthz`` says
  ``degraded``; once Redis is back the cache is written and read again.
* PostgreSQL stopped mid-run: ``/healthz`` is 503 ``{"database": "unavailable"}``, pages are
  the friendly 503 page with ``Retry-After`` and no internals; after the restart the same
  processes serve 200 again (their persistent connections recover).

The services are private instances on spare loopback ports (``tests/support/services.py``), started
whatever backend the rest of the suite runs on, so these tests run in both CI runs. Every
wait is bounded by a deadline; every process is stopped in ``finally``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.db import OperationalError
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError

from tenancy.cache import CacheOutageLogFilter
from tests.conftest import host_client
from tests.support.http_stack import PASSWORD, Browser, Reply, Tenant, gunicorn, production_env, seed
from tests.support.services import PostgresServer, RedisServer, postgres_server, redis_server


def core(health: dict) -> dict:
    """The database and cache verdicts of /healthz (and "status" when it is "down"): these
    servers run no task worker, so the full report says "degraded" for that."""
    keep = {"database", "cache"} | ({"status"} if health.get("status") == "down" else set())
    return {k: v for k, v in health.items() if k in keep}

WORKERS = 2  # gunicorn workers, as the Procfile's default
OUTAGE_ROUNDS = 15  # request rounds while a service is down
RECOVERY_TIMEOUT = 20.0  # seconds the app may take to serve normally again
STEADY_ROUNDS = 6  # consecutive good rounds that count as "recovered" (both workers)
LEAKS = ("Traceback", "File \"", "django.", "psycopg", "OperationalError", "InterfaceError",
         "Exception", "connection", "5432", "127.0.0.1", "/usr/", ".py", "SECRET_KEY")


@dataclass
class Stack:
    """The server under test, its services and a tenant to drive it with."""

    port: int
    postgres: PostgresServer
    redis: RedisServer
    log: Path
    tenant: Tenant  # "Outage Inc"
    cold: Tenant  # "Cold Corp": never requested before the database outage
    admin: Browser  # signed in to the tenant's console

    def anonymous(self, tenant: Tenant | None = None) -> Browser:
        return Browser(self.port, (tenant or self.tenant).host)

    def log_text(self, since: int = 0) -> str:
        return self.log.read_bytes()[since:].decode(errors="replace")

    def log_size(self) -> int:
        return self.log.stat().st_size

    def pages(self) -> dict[str, Reply]:
        """One round over real pages: tenant home (anonymous), a workspace host, the console
        (signed in), the JSON API (API key), and the health check."""
        anonymous = self.anonymous()
        return {
            "home": anonymous.get("/"),
            "workspace": Browser(self.port, self.tenant.workspace_host).get("/"),
            "console": self.admin.get("/console/"),
            "api": anonymous.get("/api/v1/workspaces/", Authorization=f"Token {self.tenant.key}"),
            "healthz": anonymous.get("/healthz"),
        }

    def redis_stats(self) -> dict[str, int]:
        raw = self.redis.command("INFO", "stats").decode()
        return {k: int(v) for k, v in re.findall(r"^(keyspace_\w+):(\d+)", raw, re.M)}

    def redis_keys(self) -> list[str]:
        raw = self.redis.command("KEYS", "*").decode(errors="replace")
        return [line for line in raw.split("\r\n") if line and line[0] not in "*$"]


def _check_normal(stack: Stack, replies: dict[str, Reply]) -> None:
    assert {name: r.status for name, r in replies.items()} == dict.fromkeys(replies, 200)
    assert "Outage Inc" in replies["home"].text and "launchpad" in replies["home"].text
    assert "launchpad" in replies["workspace"].text
    assert "Outage Inc" in replies["console"].text
    assert [w["name"] for w in replies["api"].json()["results"]] == ["launchpad"]


def _until(since: float, probe: Callable[[], bool]) -> tuple[float, float, int]:
    """Wait until ``probe()`` holds ``STEADY_ROUNDS`` times in a row (so both workers have
    recovered); fails after ``RECOVERY_TIMEOUT``. Returns the seconds from ``since`` to the
    first good round and to the steady state, and the number of failed rounds."""
    deadline = time.monotonic() + RECOVERY_TIMEOUT
    streak, failed = 0, 0
    first: float | None = None
    last: object = None
    while time.monotonic() < deadline:
        try:
            ok = probe()
        except AssertionError as exc:
            ok, last = False, exc
        if ok:
            streak += 1
            first = time.monotonic() - since if first is None else first
            if streak >= STEADY_ROUNDS:
                return first, time.monotonic() - since, failed
        else:
            streak, failed = 0, failed + 1
            time.sleep(0.05)
    raise AssertionError(f"not recovered within {RECOVERY_TIMEOUT:.0f} s; last failure: {last}")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("outages")
    with postgres_server() as postgres, redis_server() as redis:
        env = production_env(tmp, postgres.url, redis.url)
        tenant, cold = seed(env, ["Outage Inc", "Cold Corp"])
        log = tmp / "gunicorn.log"
        with gunicorn(env, log, workers=WORKERS) as port:
            admin = Browser(port, tenant.host)
            admin.sign_in(tenant.username)
            yield Stack(port, postgres, redis, log, tenant, cold, admin)


@pytest.mark.services
def test_redis_outage_degrades_to_the_database_and_recovers(stack: Stack):
    _check_normal(stack, stack.pages())
    assert stack.redis_keys(), "the cache was not written before the outage"
    since = stack.log_size()
    stack.redis.stop()
    try:
        statuses: Counter[int] = Counter()
        slowest = 0.0
        health: Counter[str] = Counter()
        started = time.monotonic()
        for _ in range(OUTAGE_ROUNDS):
            replies = stack.pages()
            statuses.update(r.status for r in replies.values())
            slowest = max(slowest, *(r.seconds for r in replies.values()))
            _check_normal(stack, replies)
            reported = replies["healthz"].json()
            health[json.dumps({**core(reported), "status": reported["status"]}, sort_keys=True)] += 1
        # a sign-in during the outage works too (sessions live in the database)
        late = stack.anonymous()
        late.sign_in(stack.tenant.username)
        assert late.get("/console/").status == 200
        outage_seconds = time.monotonic() - started
        assert health == {json.dumps({"cache": "unavailable", "database": "ok",
                                      "status": "degraded"}, sort_keys=True): OUTAGE_ROUNDS}
        logged = stack.log_text(since)
        warnings = [line for line in logged.splitlines() if " tenancy.cache " in line]
        # one line per worker (and per 30 s), not a traceback per failed cache call
        assert 1 <= len(warnings) <= WORKERS, logged[-3000:]
        assert all(" WARNING tenancy.cache " in line and "cache unavailable, serving from the "
                   "database: Redis ConnectionError" in line for line in warnings), warnings
        assert "Traceback" not in logged, logged[-3000:]
        assert slowest < 2.0, f"a request took {slowest:.2f} s during the Redis outage"
    finally:
        restarted = time.monotonic()
        stack.redis.start()
    assert stack.redis_keys() == []  # a new, empty cache node

    def cache_back() -> bool:
        replies = stack.pages()
        _check_normal(stack, replies)
        return core(replies["healthz"].json()) == {"database": "ok", "cache": "ok"}

    first_ok, steady, failed_rounds = _until(restarted, cache_back)
    hits_before = stack.redis_stats()["keyspace_hits"]
    _check_normal(stack, stack.pages())
    keys = stack.redis_keys()
    assert any("tenancy:v1:val:account:number:" in k for k in keys), keys
    assert stack.redis_stats()["keyspace_hits"] > hits_before  # read from the cache again
    print(f"\nredis outage: {sum(statuses.values())} requests in {outage_seconds:.2f} s, "
          f"statuses {dict(statuses)}, slowest {slowest * 1000:.0f} ms, "
          f"{len(warnings)} tenancy.cache log lines; "
          f"healthz during outage {dict(health)}; "
          f"after restart (incl. start-up): first normal round {first_ok:.2f} s, steady "
          f"{steady:.2f} s, {failed_rounds} degraded rounds; {len(keys)} keys in the new Redis")


@pytest.mark.services
def test_postgres_outage_gives_503_without_internals_and_recovers(stack: Stack):
    _check_normal(stack, stack.pages())
    since = stack.log_size()
    stack.postgres.stop()
    try:
        seen: Counter[tuple[str, int]] = Counter()
        slowest = 0.0
        started = time.monotonic()
        for _ in range(OUTAGE_ROUNDS):
            replies = stack.pages()
            # an account no process has cached yet: its host lookup itself needs the database
            replies["cold"] = stack.anonymous(stack.cold).get("/")
            # the login form needs no query (served from the cache); signing in does
            replies["sign-in"] = stack.anonymous().login(stack.tenant.username, PASSWORD)
            for name, reply in replies.items():
                seen[(name, reply.status)] += 1
                slowest = max(slowest, reply.seconds)
                if name == "workspace" and reply.status == 200:
                    # an anonymous page that needs no query at all: served from the cache
                    assert "Public workspace of Outage Inc" in reply.text
                    continue
                assert reply.status == 503, (name, reply.status, reply.text[:300])
                if name == "healthz":
                    assert core(reply.json()) == {"database": "unavailable", "cache": "ok",
                                                  "status": "down"}
                    continue
                assert reply.headers.get("Retry-After") == "5", (name, reply.headers)
                for leak in LEAKS:
                    assert leak not in reply.text, (name, leak)
                if name == "api":  # the API's own JSON envelope, not the page
                    assert reply.headers["Content-Type"].startswith("application/json"), name
                    assert reply.json()["error"]["code"] == "unavailable", reply.text
                    continue
                assert reply.headers["Content-Type"].startswith("text/html"), name
                assert "We&#x27;ll be right back" in reply.text or \
                    "We'll be right back" in reply.text, (name, reply.text[:300])
                for leak in LEAKS:
                    assert leak not in reply.text, (name, leak)
        outage_seconds = time.monotonic() - started
        logged = stack.log_text(since)
        assert "database unavailable" in logged or "database down" in logged, logged[-3000:]
        assert slowest < 5.0, f"a request took {slowest:.2f} s during the database outage"
    finally:
        restarted = time.monotonic()
        stack.postgres.start()

    def database_back() -> bool:
        replies = stack.pages()
        _check_normal(stack, replies)
        assert stack.anonymous(stack.cold).get("/").status == 200
        return core(replies["healthz"].json()) == {"database": "ok", "cache": "ok"}

    first_ok, steady, failed_rounds = _until(restarted, database_back)
    print(f"\npostgres outage: {sum(seen.values())} requests in {outage_seconds:.2f} s, "
          f"statuses {dict(seen)}, slowest {slowest * 1000:.0f} ms; "
          f"after restart (incl. start-up): first normal round {first_ok:.2f} s, steady "
          f"{steady:.2f} s, {failed_rounds} failed rounds")


# --- in process: the two fixes the outages above exposed ---------------------------------
DB_ERROR = 'connection to server at "10.0.0.5", port 5432 failed: Connection refused'


@pytest.mark.parametrize("where", ["host lookup", "session load"])
def test_database_errors_inside_middleware_are_503_not_500(tenant_a, monkeypatch, caplog, where):
    """An uncached host's account lookup and the session load run in middleware below the
    outage middleware; Django answers their exceptions through handler500, which must give
    the 503 page too (it gave the 500 page), logged in one line without a traceback."""
    client = host_client(tenant_a.host)
    client.raise_request_exception = False

    def down(*args, **kwargs):
        raise OperationalError(DB_ERROR)

    if where == "host lookup":
        monkeypatch.setattr("middleware.tenant.get_cached_account_by_number", down)
        path = "/"
    else:
        client.force_login(tenant_a.admin.user)
        monkeypatch.setattr("django.contrib.sessions.backends.db.SessionStore.load", down)
        path = "/console/"
    with caplog.at_level(logging.INFO):
        response = client.get(path)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert "right back" in body and "Error 503" in body
    for leak in LEAKS + ("10.0.0.5", "refused"):
        assert leak not in body, leak
    assert [r.getMessage() for r in caplog.records if r.name == "middleware.outage"] == [
        f"database unavailable: OperationalError: {DB_ERROR}"]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"


def _redis_call_fails(logger: logging.Logger) -> None:
    """What django-redis does on a failed call with IGNORE_EXCEPTIONS and logging on."""
    try:
        try:
            raise RedisConnectionError("Error 111 connecting to 127.0.0.1:1. Connection refused.")
        except RedisConnectionError as exc:
            raise ConnectionInterrupted(connection=None) from exc
    except ConnectionInterrupted:
        logger.exception("Exception ignored")


def test_cache_outage_log_filter_logs_one_line_per_interval(monkeypatch):
    assert any(isinstance(f, CacheOutageLogFilter)
               for f in logging.getLogger("tenancy.cache").filters), "not wired in LOGGING"
    now = [1000.0]
    monkeypatch.setattr("tenancy.cache.time.monotonic", lambda: now[0])
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("tests.outages.cache-filter")
    logger.propagate, logger.level = False, logging.INFO
    logger.addHandler(handler)
    logger.addFilter(CacheOutageLogFilter(interval=30))
    try:
        for _ in range(50):
            _redis_call_fails(logger)
        logger.warning("cache unavailable reading %s", "k")  # not django-redis's: unchanged
        now[0] += 29
        _redis_call_fails(logger)
        now[0] += 2
        _redis_call_fails(logger)
    finally:
        logger.removeHandler(handler)
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in records] == [
        ("WARNING", "cache unavailable, serving from the database: Redis ConnectionError: "
                    "Error 111 connecting to 127.0.0.1:1. Connection refused.", None),
        ("WARNING", "cache unavailable reading k", None),
        ("WARNING", "cache unavailable, serving from the database: Redis ConnectionError: "
                    "Error 111 connecting to 127.0.0.1:1. Connection refused. "
                    "(50 more cache errors since the last report)", None),
    ]
