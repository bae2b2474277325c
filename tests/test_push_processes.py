"""Pushed invalidations between real processes on a private Redis: process A changes rows
(signals invalidate and publish), process B answers requests. B serves from level 1 with no
Redis read while its subscription is healthy, and gives zero stale answers when push fails:
its subscriber connection killed (CLIENT KILL), Redis restarted, its subscriber thread
stalled. Then the same with forked gunicorn workers as B."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.http_stack import Browser, gunicorn, production_env, seed
from tests.support.services import RedisServer, redis_server, throwaway_postgres
from tests.test_cache import ROOT, Worker, shared_database_url
from tests.test_push import one_clean_burst

pytestmark = pytest.mark.services
CHANNEL = "smarter:tenancy:invalidate:db0"

B_SETUP = """
import time
from django.test import Client
from tenancy.cache import tenant_cache
from tenancy.hosts import tenant_host
def status():
    return Client(HTTP_HOST=tenant_host(NUMBER)).get('/').status_code
def wait_active():
    deadline = time.monotonic() + 15
    while not tenant_cache.push.active():
        assert time.monotonic() < deadline, 'push never became active'
        time.sleep(0.01)
"""


def reads(redis: RedisServer) -> int:
    """GET/MGET commands Redis has served so far (version-token and value reads)."""
    stats = redis.command("INFO", "commandstats").decode()
    return sum(int(n) for n in re.findall(r"^cmdstat_(?:get|mget):calls=(\d+)", stats, re.M))


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[tuple[RedisServer, Worker, Worker]]:
    with redis_server() as redis, shared_database_url(tmp_path) as database_url:
        env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
        env.update(
            DJANGO_SETTINGS_MODULE="smarter.settings", DATABASE_URL=database_url,
            REDIS_URL=redis.url, DEBUG="true", LOG_LEVEL="ERROR",
            TENANCY_L1_TTL="3600", TENANCY_L2_TTL="3600", PYTHONPATH=str(ROOT),
        )
        import subprocess

        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                       cwd=ROOT, env=env, check=True, timeout=120, capture_output=True)
        a, b = Worker(env, tmp_path / "a.log"), Worker(env, tmp_path / "b.log")
        try:
            number = a(
                "from accounts.provisioning import ensure_default_account\n"
                "ensure_default_account()\n"
                "result = Account.objects.create(company_name='Push Inc').account_number"
            )
            b(f"NUMBER = {number!r}\n" + B_SETUP)
            yield redis, a, b
        finally:
            a.close()
            b.close()


def set_active(a: Worker, active: bool) -> None:
    a(f"acc = Account.objects.get(company_name='Push Inc'); acc.is_active = {active}; acc.save()")


def warm(redis: RedisServer, b: Worker, expected: int = 200) -> None:
    """B in push mode, its tenant served from level 1 without one Redis read."""
    b("wait_active()")
    assert b("result = [status(), status()]") == [expected] * 2

    def burst() -> bool:
        before = reads(redis)
        assert b("result = [status() for _ in range(20)]") == [expected] * 20
        return reads(redis) == before

    one_clean_burst(burst)


def test_changes_are_pushed_to_another_process(processes):
    redis, a, b = processes
    warm(redis, b)
    set_active(a, False)
    assert b("result = status()") == 404  # the very next request
    set_active(a, True)
    assert b("result = status()") == 200


def test_subscriber_connection_killed(processes):
    redis, a, b = processes
    warm(redis, b)
    assert re.match(rb":[1-9]", redis.command("CLIENT", "KILL", "TYPE", "pubsub"))
    set_active(a, False)  # B is not subscribed: this push reaches nobody
    assert b("result = status()") == 404
    warm(redis, b, 404)  # B resubscribed (level 1 re-checked), serves from level 1 again
    set_active(a, True)
    assert b("result = status()") == 200


def test_redis_restarted(processes):
    redis, a, b = processes
    warm(redis, b)
    redis.stop()
    redis.start()
    set_active(a, False)
    assert b("result = status()") == 404
    set_active(a, True)
    assert b("result = status()") == 200
    warm(redis, b)
    set_active(a, False)
    assert b("result = status()") == 404


def test_subscriber_thread_stalled(processes):
    redis, a, b = processes
    warm(redis, b)
    b("tenant_cache.push.pause()")
    set_active(a, False)  # the push waits unread in the stalled thread's socket
    assert b("result = status()") == 404
    set_active(a, True)
    assert b("result = status()") == 200
    b("tenant_cache.push.resume()")
    warm(redis, b)


def test_forked_gunicorn_workers_subscribe_and_see_pushes(tmp_path):
    """Gunicorn forks its workers after loading the app: each starts its own subscriber."""
    with redis_server() as redis, shared_database_url(tmp_path) as database_url, ExitStack() as stack:
        if not database_url.startswith("postgres"):  # production refuses SQLite: a private server
            database_url = stack.enter_context(throwaway_postgres())
        env = production_env(tmp_path, database_url, redis.url)
        (tenant,) = seed(env, ["Fork Inc"])
        a = Worker({**env, "DEBUG": "true", "LOG_LEVEL": "ERROR"}, tmp_path / "a.log")
        try:
            with gunicorn(env, tmp_path / "gunicorn.log", workers=2) as port:
                browser = Browser(port, tenant.host)
                # Sequential requests may all be accepted by one worker: send them concurrently
                # (a busy worker leaves the next connection to the other) until both subscribed.
                deadline = time.monotonic() + 20
                with ThreadPoolExecutor(8) as pool:
                    while not redis.command("PUBSUB", "NUMSUB", CHANNEL).endswith(b":2\r\n"):
                        assert time.monotonic() < deadline, "a worker never subscribed"
                        statuses = pool.map(lambda _: Browser(port, tenant.host).get("/").status, range(16))
                        assert set(statuses) == {200}

                def burst() -> bool:  # both workers answer from level 1
                    before = reads(redis)
                    assert [browser.get("/").status for _ in range(20)] == [200] * 20
                    return reads(redis) == before

                one_clean_burst(burst, attempts=10)
                for active, expected in ((False, 404), (True, 200), (False, 404)):
                    a(f"acc = Account.objects.get(account_number={tenant.number!r}); "
                      f"acc.is_active = {active}; acc.save()")
                    assert [browser.get("/").status for _ in range(10)] == [expected] * 10
                redis.command("CLIENT", "KILL", "TYPE", "pubsub")
                a(f"Account.objects.filter(account_number={tenant.number!r}).first().save()")
                a(f"acc = Account.objects.get(account_number={tenant.number!r}); "
                  "acc.is_active = True; acc.save()")
                assert [browser.get("/").status for _ in range(10)] == [200] * 10
        finally:
            a.close()
