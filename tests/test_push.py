"""Pushed invalidations (tenancy.push) on a real, private Redis: level-1 hits cost no round
trip while the subscription is healthy, and there is no stale answer when push fails
(connection killed, Redis restarted, subscriber thread stalled).

Here "another process" is a second ``TwoLevelCache`` sharing Redis (its own level 1, its
own publisher); tests/test_push_processes.py repeats the failures with real processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from django.core.cache import cache
from django.test import override_settings

from smarter.env import redis_cache
from tenancy.cache import TwoLevelCache, tenant_cache
from tests.support.services import RedisServer, redis_server

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def one_clean_burst(burst: Callable[[], bool], attempts: int = 5) -> None:
    """Assert that ``burst()`` (a run of warm reads, true when none went to Redis) holds on
    one of a few tries. Each heartbeat's PONG leaves the subscriber socket readable until its
    thread reads it (up to the interpreter's switch interval while the reader holds the GIL),
    and a read in that window rightly checks Redis: a burst that crossed a heartbeat is run
    again. A cache that went to Redis on every warm read fails every try."""
    for _ in range(attempts):
        if burst():
            return
    pytest.fail(f"each of {attempts} bursts of warm reads went to Redis")


class CountingCache:
    """Wraps Django's cache and records each call (each one a Redis round trip)."""

    def __init__(self, inner: object) -> None:
        self.inner, self.calls = inner, []

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.calls.append(name)
            return attr(*args, **kwargs)

        return counted


@pytest.fixture
def redis() -> Iterator[RedisServer]:
    with redis_server() as server, override_settings(CACHES={"default": redis_cache(server.url)}):
        yield server
    tenant_cache.clear_local()


@pytest.fixture
def counted(monkeypatch) -> CountingCache:  # type: ignore[no-untyped-def]
    counting = CountingCache(cache)
    monkeypatch.setattr("tenancy.cache.django_cache", counting)
    return counting


@pytest.fixture
def other() -> TwoLevelCache:
    """Another process's cache: its own level 1, the same Redis."""
    return TwoLevelCache(maxsize=100, ttl=600)


def warm(key: str, value: str) -> None:
    """Push active, and ``key`` served from level 1 with no Redis call."""
    wait_for(tenant_cache.push.active)
    assert tenant_cache.get_or_load(key, lambda: value) == value
    if not tenant_cache.l1[key].trusted:  # loaded while a message was in flight: confirm
        assert tenant_cache.get_or_load(key, lambda: "unused") == value
    assert tenant_cache.l1[key].trusted


def test_a_level_one_hit_costs_no_round_trip_while_push_is_healthy(redis, counted, other):
    warm("k", "v1")

    def burst() -> bool:
        counted.calls.clear()
        for _ in range(20):
            assert tenant_cache.get_or_load("k", lambda: "unused") == "v1"
        return counted.calls == []

    one_clean_burst(burst)
    other.invalidate("k")  # another process changes the row
    assert tenant_cache.get_or_load("k", lambda: "v2") == "v2"  # the very next read
    assert counted.calls  # ... which had to go to Redis


def test_no_push_without_redis_or_when_switched_off(redis, counted, settings):
    warm("k", "v1")
    settings.TENANCY_PUSH_INVALIDATION = False
    assert not tenant_cache.push.active()
    assert tenant_cache.get_or_load("k", lambda: "v1") == "v1"
    counted.calls.clear()
    assert tenant_cache.get_or_load("k", lambda: "unused") == "v1"
    assert counted.calls == ["get"]  # every read checks its version token


def test_killed_subscriber_connection(redis, other):
    warm("k", "v1")
    assert b":1" in redis.command("CLIENT", "KILL", "TYPE", "pubsub")
    other.invalidate("k")  # published while this process is not subscribed
    assert tenant_cache.get_or_load("k", lambda: "v2") == "v2"
    # it subscribes again, and level 1 is distrusted: no push missed meanwhile can linger
    wait_for(tenant_cache.push.active)
    assert not any(entry.trusted for entry in tenant_cache.l1.values())
    warm("k", "v2")
    other.invalidate("k")
    assert tenant_cache.get_or_load("k", lambda: "v3") == "v3"


def test_redis_restarted(redis, other):
    warm("k", "v1")
    redis.stop()
    redis.start()  # empty, as a replaced node would be
    other.invalidate("k")
    assert tenant_cache.get_or_load("k", lambda: "v2") == "v2"
    wait_for(tenant_cache.push.active)
    warm("k", "v2")
    other.invalidate("k")
    assert tenant_cache.get_or_load("k", lambda: "v3") == "v3"


def test_paused_subscriber_thread(redis, other):
    warm("k", "v1")
    tenant_cache.push.pause()
    try:
        other.invalidate("k")  # the message waits, unread, in the paused thread's socket
        assert tenant_cache.get_or_load("k", lambda: "v2") == "v2"
        assert not tenant_cache.push.active()
    finally:
        tenant_cache.push.resume()
    wait_for(tenant_cache.push.active)  # resumed: it applies what it missed
    warm("k", "v2")
    other.invalidate("k")
    assert tenant_cache.get_or_load("k", lambda: "v3") == "v3"


def test_a_stalled_thread_is_detected_by_its_heartbeat(redis, other, monkeypatch):
    monkeypatch.setattr(tenant_cache.push, "heartbeat", 0.2)
    tenant_cache.push.reset()
    warm("k", "v1")
    time.sleep(0.5)  # 2.5 heartbeats: without pings it could never be active again
    wait_for(tenant_cache.push.active, timeout=0.2)  # pings keep it alive (past a PONG in flight)
    tenant_cache.push.pause()  # nothing pending, but no heartbeat any more
    try:
        wait_for(lambda: not tenant_cache.push.active(), timeout=2.0)
    finally:
        tenant_cache.push.resume()
    wait_for(tenant_cache.push.active)


def test_a_push_overtaking_a_slow_reader_does_not_leave_its_stale_value(redis, other):
    warm("warm", "x")

    def slow_loader() -> str:
        before = tenant_cache._seq
        other.invalidate("k")  # the row changes while we load the old one ...
        wait_for(lambda: tenant_cache._seq != before)  # ... and the push arrives first
        return "stale"

    assert tenant_cache.get_or_load("k", slow_loader) == "stale"  # this read: concurrent
    assert not tenant_cache.l1["k"].trusted
    assert tenant_cache.get_or_load("k", lambda: "fresh") == "fresh"  # the next: not stale


def test_an_unknown_number_created_elsewhere_is_seen_under_push(redis, other):
    wait_for(tenant_cache.push.active)
    family = "family"
    assert tenant_cache.get_or_load("n1", lambda: None, miss_key=family) is None
    assert tenant_cache.get_or_load("n1", lambda: "unused", miss_key=family) is None  # cached
    assert tenant_cache.misses["n1"].trusted
    other.invalidate(family)  # e.g. an account was created in another process
    assert tenant_cache.get_or_load("n1", lambda: "created", miss_key=family) == "created"


# --- the tenant middleware's route memo (one map read per warm request under push) ----------

@pytest.fixture
def lookups(monkeypatch) -> list[str]:  # type: ignore[no-untyped-def]
    """Account numbers the tenant middleware looks up (each a cached lookup, not a memo hit)."""
    import middleware.tenant as tenant_middleware

    seen: list[str] = []
    real = tenant_middleware.get_cached_account_by_number

    def counted(number: str):  # type: ignore[no-untyped-def]
        seen.append(number)
        return real(number)

    monkeypatch.setattr(tenant_middleware, "get_cached_account_by_number", counted)
    return seen


def warm_route(client, lookups: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Push active and the client's host served from the route memo (no lookup at all)."""
    wait_for(tenant_cache.push.active)
    for _ in range(3):  # a route resolved while a message was in flight is not remembered
        assert client.get("/").status_code == 200

    def burst() -> bool:
        lookups.clear()
        for _ in range(5):
            assert client.get("/").status_code == 200
        return lookups == []

    one_clean_burst(burst)


def test_a_warm_host_is_served_from_its_route_until_another_process_changes_it(
    redis, other, lookups, tenant_a
):
    from accounts.caching import account_number_key, account_pk_key
    from accounts.models import Account
    from tests.conftest import host_client

    client = host_client(tenant_a.host)
    warm_route(client, lookups)
    account = tenant_a.account
    Account.objects.filter(pk=account.pk).update(is_active=False)  # another process saves ...
    other.invalidate(account_number_key(account.account_number), account_pk_key(account.pk))
    assert client.get("/").status_code == 404  # ... and the very next request sees it
    assert lookups == [account.account_number]


def test_the_route_memo_is_not_used_while_push_is_down(redis, other, lookups, tenant_a):
    from tests.conftest import host_client

    client = host_client(tenant_a.host)
    warm_route(client, lookups)
    tenant_cache.push.pause()
    try:
        other.invalidate("unrelated")  # a message waits unread: push is not trusted now
        assert not tenant_cache.push.active()
        for _ in range(3):
            assert client.get("/").status_code == 200
        assert len(lookups) == 3  # every request resolved its host again
    finally:
        tenant_cache.push.resume()


def test_the_route_memo_is_bounded_and_follows_settings(redis, lookups, tenant_a, settings):
    import middleware.tenant as tenant_middleware
    from tests.conftest import host_client

    settings.TENANCY_L1_MAXSIZE = 16
    wait_for(tenant_cache.push.active)
    for port in range(1, 101):  # every port is another raw Host header
        assert host_client(f"{tenant_a.host}:{port}").get("/").status_code == 200
        assert len(tenant_middleware._routes) <= 16
    client = host_client(tenant_a.host)
    warm_route(client, lookups)
    settings.ALLOWED_HOSTS = ["localhost"]  # the operator no longer serves the subdomains
    assert client.get("/").status_code == 400


class _PollerInUse:
    """A poll object another thread is polling: CPython raises RuntimeError."""

    def poll(self, timeout: int) -> list:
        raise RuntimeError("concurrent poll() invocation")


def test_a_poll_another_thread_is_running_reads_as_not_active():
    """gthread workers (and the database wall's tests) read the cache from several threads at
    once; a concurrent poll() must make that read check its token, not fail the request."""
    from tenancy.push import PushChannel, Subscription

    channel = PushChannel(listener=TwoLevelCache())
    sub = Subscription("test", connection_factory=None)
    sub.healthy, sub.last_pong, sub.poller = True, time.monotonic(), _PollerInUse()
    channel._started, channel._sub = True, sub
    assert channel.active() is False
    sub.poller = type("Quiet", (), {"poll": lambda self, timeout: []})()
    assert channel.active() is True
