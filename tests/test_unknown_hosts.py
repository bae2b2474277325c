"""Unknown account numbers and workspace labels come from request hosts: a flood of distinct
ones must not grow shared state (Redis), while a newly created account or workspace is
found on the next request in every process."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from accounts.utils import get_cached_account_by_number
from smarter.env import redis_cache
from tenancy.cache import tenant_cache
from tenancy.hosts import tenant_host
from tests.conftest import host_client
from tests.support.services import RedisServer, redis_server
from tests.test_cache import two_processes  # noqa: F401  (fixture)
from workspaces.models import Workspace
from workspaces.utils import get_cached_workspace

FLOOD = 1000


def unknown_numbers(count: int) -> list[str]:
    numbers = set()
    while len(numbers) < count:
        n = f"{secrets.randbelow(10**12):012d}"
        numbers.add(f"{n[:4]}-{n[4:8]}-{n[8:]}")
    return sorted(numbers - set(Account.objects.values_list("account_number", flat=True)))


def redis_footprint(server: RedisServer) -> tuple[int, int]:
    """(keys in the db, used_memory bytes) as Redis itself reports them."""
    keys = int(server.command("DBSIZE").split(b":")[1])
    info = server.command("INFO", "memory").decode()
    used = next(int(line.split(":")[1]) for line in info.splitlines()
                if line.startswith("used_memory:"))
    return keys, used


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    with redis_server() as server, override_settings(CACHES={"default": redis_cache(server.url)}):
        tenant_cache.clear_local()
        yield server
    tenant_cache.clear_local()


@pytest.mark.services
@pytest.mark.django_db
def test_a_flood_of_unknown_numbers_leaves_redis_flat(private_redis, tenant_a):
    assert host_client(tenant_a.host).get("/").status_code == 200  # the real tenant is cached
    assert host_client(tenant_host(unknown_numbers(1)[0])).get("/").status_code == 404
    keys_before, memory_before = redis_footprint(private_redis)
    numbers = unknown_numbers(FLOOD)
    for number in numbers:
        assert host_client(tenant_host(number)).get("/").status_code == 404
    keys_after, memory_after = redis_footprint(private_redis)
    assert keys_after == keys_before  # not one key per distinct number (before: two each)
    # two keys per number took ~150 bytes each: 1,000 numbers would add > 150 kB
    assert memory_after - memory_before < 32 * 1024, (memory_before, memory_after)
    # the misses are still cached, in this process only: a repeat costs no query
    with CaptureQueriesContext(connection) as queries:
        assert host_client(tenant_host(numbers[-1])).get("/").status_code == 404
    assert len(queries) == 0
    # and the flood did not push the real tenant out of level 1
    with CaptureQueriesContext(connection) as queries:
        assert host_client(tenant_a.host).get("/").status_code == 200
    assert not [q for q in queries if "accounts_account" in q["sql"]]


@pytest.mark.services
@pytest.mark.django_db
def test_a_flood_of_unknown_workspace_labels_leaves_redis_flat(private_redis, tenant_a):
    account_id = tenant_a.account.pk
    assert host_client(tenant_a.workspace_host("warm")).get("/").status_code == 404
    keys_before, _ = redis_footprint(private_redis)
    for i in range(300):
        assert host_client(tenant_a.workspace_host(f"nope{i}")).get("/").status_code == 404
    assert redis_footprint(private_redis)[0] == keys_before
    Workspace.objects.create(user_profile=tenant_a.admin, name="nope7")
    assert host_client(tenant_a.workspace_host("nope7")).get("/").status_code != 404
    ws = Workspace.objects.create(user_profile=tenant_a.admin, name="other")
    assert get_cached_workspace(account_id, "nope8") is None
    ws.name = "nope8"
    ws.save()
    assert get_cached_workspace(account_id, "nope8") == ws  # a rename is seen at once too


@pytest.mark.django_db
def test_unknown_numbers_are_cached_per_process_only():
    """Also on the embedded cache: a miss writes no level-2 key and costs one query once."""
    number = unknown_numbers(1)[0]
    before = len(cache._cache) if hasattr(cache, "_cache") else None  # type: ignore[attr-defined]
    assert get_cached_account_by_number(number) is None
    with CaptureQueriesContext(connection) as queries:
        assert get_cached_account_by_number(number) is None
    assert len(queries) == 0
    if before is not None:  # locmem: only the one shared generation key was added
        assert len(cache._cache) <= before + 1  # type: ignore[attr-defined]
    account = Account.objects.create(company_name="Late", account_number=number)
    assert get_cached_account_by_number(number) == account
    assert get_cached_account_by_number(number) == account


CLIENT = """
import time
from django.test import Client
from tenancy.cache import tenant_cache
from tenancy.hosts import tenant_host
def status(number):
    return Client(HTTP_HOST=tenant_host(number)).get('/').status_code
# A (re)subscription drops level 1 (misses included) before push turns active: wait for
# it, or a miss cached before the subscription is confirmed is dropped and loaded again.
deadline = time.monotonic() + 15
while not tenant_cache.push.active():
    assert time.monotonic() < deadline, 'push never became active'
    time.sleep(0.01)
"""


@pytest.mark.services
def test_a_created_account_resolves_at_once_in_another_process(two_processes):  # noqa: F811
    a, b = two_processes
    a("from accounts.provisioning import ensure_default_account; ensure_default_account()")
    b(CLIENT)
    number = "4242-4242-4242"
    assert b(f"result = status({number!r})") == 404
    assert b(
        "with CaptureQueriesContext(connection) as q:\n"
        f"    s = status({number!r})\n"
        "result = [s, len([x for x in q.captured_queries if 'accounts_account' in x['sql']])]"
    ) == [404, 0]  # B caches the miss (no query) ...
    assert b(
        "from django.core.cache import cache\n"
        "result = [k for k in cache.keys('*') if '4242' in k]"
    ) == []  # ... in its own memory only: Redis holds no key for the number
    a(f"Account.objects.create(company_name='Late', account_number={number!r})")
    assert b(f"result = status({number!r})") == 200  # the very next request in B finds it
    # and a miss of B's own, cached after A's creation, is not confused with it
    assert b("result = status('4242-4242-4243')") == 404
