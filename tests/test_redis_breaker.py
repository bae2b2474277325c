"""A hung Redis is not an outage (issue 36, section 4).

* A "Redis" that accepts connections and never answers (a socket server on loopback): tenant
  pages, signed in and not, stay fast; the process waits out a bounded number of socket
  timeouts (one per breaker interval), not one per cache call; the log says so once and
  ``/healthz`` reports the cache unavailable with the breaker open.
* A real redis-server frozen with SIGSTOP and thawed: a change made in this process while it
  was frozen is not served stale by another process's cache afterwards (the invalidation is
  replayed once Redis answers, and the other's subscriber, whose link hung, resubscribes and
  drops its level 1, including a cached "not found"); the breaker closes again and says so once.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from django.test import override_settings

from operations.health import report
from smarter.env import redis_cache
from tenancy import metrics, redis_breaker
from tenancy.cache import TwoLevelCache, tenant_cache
from tests.conftest import host_client
from tests.support.services import RedisServer, redis_server
from tests.test_push import wait_for

pytestmark = [pytest.mark.django_db]


class SilentServer:
    """Accepts every connection on a loopback port, reads what it is sent, never answers."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.connections: list[socket.socket] = []
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(conn)  # kept open and never answered

    def close(self) -> None:
        self._stop = True
        self.listener.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    try:
        yield server
    finally:
        server.close()


def _messages(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def test_a_redis_that_never_answers_costs_a_timeout_per_interval_not_per_call(
    silent, tenant_a, settings, caplog
):  # type: ignore[no-untyped-def]
    settings.REDIS_BREAKER_MIN, settings.REDIS_BREAKER_MAX = 1.0, 4.0
    settings.TENANCY_PUSH_INVALIDATION = False  # only the cache's own connections are counted
    caplog.set_level(logging.WARNING, logger="tenancy.cache")
    pages = [host_client(tenant_a.host), host_client(tenant_a.host, tenant_a.admin.user)]
    with override_settings(CACHES={"default": redis_cache(silent.url)}, REDIS_URL=silent.url):
        started, durations = time.monotonic(), []
        for i in range(40):
            t0 = time.monotonic()
            response = pages[i % 2].get("/console/" if i % 2 else "/")
            durations.append(time.monotonic() - t0)
            assert response.status_code == 200, response.status_code
        elapsed = time.monotonic() - started
        health, code = report()
        circuit_open = metrics.CACHE_CIRCUIT_OPEN._value.get()  # type: ignore[attr-defined]
    timeouts = len(silent.connections)  # each timed-out command drops its connection
    slow = [d for d in durations if d >= 0.45]  # a socket timeout is 0.5 s
    # one trial per breaker interval (1, 2, 4, 4 ... s), however many cache calls were made
    assert 1 <= timeouts <= 2 + elapsed / settings.REDIS_BREAKER_MIN, (timeouts, elapsed)
    assert len(slow) <= timeouts, durations
    assert len(_messages(caplog, "Redis did not answer")) == 1  # said once
    assert not _messages(caplog, "Exception ignored")
    assert health["cache"] == "unavailable" and code == 200
    assert health["cache_circuit"]["state"] in {"open", "half-open"}
    assert "TimeoutError" in health["cache_circuit"]["error"]
    assert circuit_open == 1
    print(f"\nhung redis: {len(durations)} requests in {elapsed:.2f} s, {timeouts} socket "
          f"timeouts, {len(slow)} slow requests, median {sorted(durations)[20] * 1000:.0f} ms")


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server, override_settings(CACHES={"default": redis_cache(server.url)}):
        yield server
    tenant_cache.clear_local()


def _freeze(server: RedisServer) -> None:
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGSTOP)


def _thaw(server: RedisServer) -> None:
    assert server.proc is not None
    os.kill(server.proc.pid, signal.SIGCONT)


def _trip_and_invalidate(server: RedisServer, *keys: str) -> None:
    """Freeze Redis, let one read time out (the breaker opens), then invalidate ``keys``: with
    the breaker open the commands never leave this process, as in a partition that drops them
    (a frozen server would still run what reached its socket once it is thawed)."""
    _freeze(server)
    assert tenant_cache.get_or_load("trip", lambda: 1) == 1  # waits out one socket timeout
    assert not redis_breaker.closed()
    tenant_cache.invalidate(*keys)
    assert tenant_cache._pending == set(keys)


@pytest.mark.services
def test_after_a_frozen_redis_thaws_nothing_changed_meanwhile_is_served_stale(
    redis, settings, caplog
):  # type: ignore[no-untyped-def]
    settings.REDIS_BREAKER_MIN, settings.REDIS_BREAKER_MAX = 0.3, 1.0
    caplog.set_level(logging.WARNING, logger="tenancy.cache")
    other = TwoLevelCache(maxsize=100, ttl=600)  # another process: its own level 1 and subscriber
    wait_for(tenant_cache.push.active)
    wait_for(other.push.active)
    assert tenant_cache.get_or_load("member", lambda: "admin") == "admin"
    assert other.get_or_load("member", lambda: "admin") == "admin"
    assert other.get_or_load("member", lambda: "unused") == "admin"  # from its level 1
    try:
        _trip_and_invalidate(redis, "member")  # a member removed here while Redis hangs
        t0 = time.monotonic()
        for _ in range(50):  # this process serves from the database meanwhile, quickly
            assert tenant_cache.get_or_load("member", lambda: "removed") == "removed"
        assert time.monotonic() - t0 < 2.0
    finally:
        _thaw(redis)

    def fresh() -> bool:
        tenant_cache.get_or_load("member", lambda: "removed")  # traffic: the trial, the replay
        return other.get_or_load("member", lambda: "removed") == "removed"

    wait_for(fresh, timeout=15)
    assert redis_breaker.closed() and not tenant_cache._pending
    assert metrics.CACHE_CIRCUIT_OPEN._value.get() == 0  # type: ignore[attr-defined]
    assert len(_messages(caplog, "Redis did not answer")) == 1
    assert len(_messages(caplog, "Redis answers again")) == 1
    assert len(_messages(caplog, "replaying 1 invalidation(s)")) == 1
    # the replay reached level 2, not just the other process's level 1
    third = TwoLevelCache(maxsize=100, ttl=600)
    assert third.get_or_load("member", lambda: "removed") == "removed"


@pytest.mark.services
def test_a_subscriber_whose_link_hung_resubscribes_and_drops_a_cached_not_found(
    redis, settings
):  # type: ignore[no-untyped-def]
    settings.REDIS_BREAKER_MIN, settings.REDIS_BREAKER_MAX = 0.3, 1.0
    other = TwoLevelCache(maxsize=100, ttl=600)
    wait_for(other.push.active)
    assert other.get_or_load("number", lambda: None, miss_key="numbers") is None  # not found
    assert other.misses["number"].trusted
    try:
        _trip_and_invalidate(redis, "numbers")  # the account is created here
        tenant_cache._pending.clear()  # ... and this process dies before it can replay it
        time.sleep(other.push.heartbeat * 4)  # the subscriber gives up its hung link
    finally:
        _thaw(redis)
    wait_for(other.push.active)
    # resubscribed: level 1 was dropped, so the miss is looked up again (the database has it)
    assert other.get_or_load("number", lambda: "created", miss_key="numbers") == "created"
