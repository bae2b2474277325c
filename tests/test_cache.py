"""Cache invalidation: change a row and the next cached call sees it, in this process and in
another process sharing Redis."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings

from accounts.models import Account, UserProfile
from accounts.utils import (
    account_number_key,
    get_cached_account,
    get_cached_account_by_number,
    get_cached_account_for_user,
    get_cached_admin_user_for_account,
    get_cached_default_account,
    get_cached_profile,
    get_cached_user_for_user_id,
    get_cached_user_for_username,
)
from audit.guard import purging
from smarter.env import redis_cache
from tenancy.cache import KEY_PREFIX, TwoLevelCache, tenant_cache
from tests.conftest import host_client
from tests.support.services import stop_process, throwaway_redis
from workspaces.models import Workspace

User = get_user_model()
ROOT = Path(__file__).resolve().parent.parent


# --- the machinery ---------------------------------------------------------------------
@pytest.mark.django_db
def test_level_one_is_bounded_and_expires(settings):
    settings.TENANCY_PUSH_INVALIDATION = False
    now = [1000.0]
    two = TwoLevelCache(maxsize=2, ttl=10, timer=lambda: now[0])
    for key in ("a", "b"):
        two.get_or_load(key, lambda k=key: k)
    assert two.get_or_load("a", lambda: "unused") == "a"  # a is now the most recent
    two.get_or_load("c", lambda: "c")
    assert set(two.l1) == {"a", "c"} and len(two.l1) == 2
    now[0] += 11
    assert "a" not in two.l1 and "c" not in two.l1


@pytest.mark.django_db
def test_two_level_cache_versions_and_misses():
    two = TwoLevelCache(maxsize=10, ttl=600)
    calls = []

    def loader():
        calls.append(1)
        return None

    assert two.get_or_load("k", loader) is None
    assert two.get_or_load("k", loader) is None
    assert len(calls) == 1  # the miss is cached
    two.invalidate("k")
    assert two.get_or_load("k", lambda: "new") == "new"
    assert two.get_or_load("k", lambda: "other", invalidate=True) == "other"
    # another process's L1 is simulated by a second instance sharing level 2
    other = TwoLevelCache(maxsize=10, ttl=600)
    assert other.get_or_load("k", lambda: "unused") == "other"
    two.invalidate("k")
    assert other.get_or_load("k", lambda: "fresh") == "fresh"


@pytest.mark.django_db
def test_a_slow_loader_cannot_write_back_a_stale_value():
    two = TwoLevelCache(maxsize=10, ttl=600)

    def stale_loader():
        two.invalidate("k")  # a writer changes the row while we load
        return "stale"

    assert two.get_or_load("k", stale_loader) == "stale"
    assert two.get_or_load("k", lambda: "fresh") == "fresh"


class CountingCache:
    """Wraps Django's cache and counts the calls (each one a round trip on Redis)."""

    def __init__(self, inner):
        self.inner, self.calls = inner, []

    def __getattr__(self, name):
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def counted(*args, **kwargs):
            self.calls.append(name)
            return attr(*args, **kwargs)

        return counted


@pytest.fixture
def counting_cache(monkeypatch):
    counting = CountingCache(cache)
    monkeypatch.setattr("tenancy.cache.django_cache", counting)
    return counting


@pytest.mark.django_db
def test_round_trips_per_lookup(counting_cache, settings):
    settings.TENANCY_PUSH_INVALIDATION = False  # strict mode: every read checks its token
    two = TwoLevelCache(maxsize=10, ttl=600)
    two.get_or_load("k", lambda: "v")
    counting_cache.calls.clear()
    assert two.get_or_load("k", lambda: "unused") == "v"
    assert counting_cache.calls == ["get"]  # level-1 hit: only the version token is read
    other = TwoLevelCache(maxsize=10, ttl=600)  # another process, cold level 1
    counting_cache.calls.clear()
    assert other.get_or_load("k", lambda: "unused") == "v"
    assert counting_cache.calls == ["get_many"]  # level-2 hit: token and value together


@pytest.mark.services
def test_version_tokens_expire_in_redis():
    """Keys may come from request hosts; their version tokens must not live forever."""
    with throwaway_redis() as url, override_settings(CACHES={"default": redis_cache(url)}):
        tenant_cache.clear_local()
        key = account_number_key("9999-9999-9999")
        assert tenant_cache.get_or_load(key, lambda: None) is None
        ttl = cache.ttl(f"{KEY_PREFIX}ver:{key}")
        assert ttl is not None and 0 < ttl <= 10 * 3600
        tenant_cache.invalidate(key)
        ttl = cache.ttl(f"{KEY_PREFIX}ver:{key}")
        assert ttl is not None and 0 < ttl <= 10 * 3600
    tenant_cache.clear_local()


# --- one process: signals invalidate what each lookup depends on -----------------------
@pytest.mark.django_db
def test_deactivated_account_is_seen_at_once(tenant_a, django_assert_num_queries):
    account, user = tenant_a.account, tenant_a.member.user
    number = account.account_number
    assert host_client(tenant_a.host).get("/").status_code == 200
    assert get_cached_account_by_number(number).is_active
    assert get_cached_account_for_user(user) == account
    with django_assert_num_queries(0):
        assert get_cached_account_by_number(number).is_active
        assert get_cached_account(account.pk).is_active
    account.is_active = False
    account.save()
    assert not get_cached_account_by_number(number).is_active
    assert not get_cached_account(account.pk).is_active
    assert get_cached_account_for_user(user) is None
    assert host_client(tenant_a.host).get("/").status_code == 404


@pytest.mark.django_db
def test_deleted_account_is_seen_at_once(tenant_a):
    number = tenant_a.account.account_number
    assert get_cached_account_by_number(number) == tenant_a.account
    with purging():  # an account (and its audit events) is deleted only by a purge
        tenant_a.account.delete()
    assert get_cached_account_by_number(number) is None
    assert get_cached_account_for_user(tenant_a.member.user) is None


@pytest.mark.django_db
def test_unknown_account_number_becomes_known_when_created():
    assert get_cached_account_by_number("1234-5678-9012") is None
    account = Account.objects.create(company_name="Late", account_number="1234-5678-9012")
    assert get_cached_account_by_number("1234-5678-9012") == account


@pytest.mark.django_db
def test_removed_membership_is_seen_at_once(tenant_a, tenant_b):
    user = tenant_a.member.user
    extra = UserProfile.objects.create(user=user, account=tenant_b.account)
    assert [p.pk for p in UserProfile.get_cached_objects(user=user)] == [tenant_a.member.pk, extra.pk]
    assert get_cached_profile(user.pk, tenant_a.account.pk) == tenant_a.member
    read = Workspace.objects.with_read_permission_for
    Workspace.objects.create(user_profile=tenant_a.admin, name="secret")
    assert set(read(user).values_list("name", flat=True)) == {"secret"}
    tenant_a.member.delete()
    assert get_cached_profile(user.pk, tenant_a.account.pk) is None
    assert [p.pk for p in UserProfile.get_cached_objects(user=user)] == [extra.pk]
    assert get_cached_account_for_user(user) == tenant_b.account
    assert not read(user).exists()


@pytest.mark.django_db
def test_deactivated_membership_is_seen_at_once(tenant_a):
    user = tenant_a.member.user
    assert get_cached_account_for_user(user) == tenant_a.account
    profile = UserProfile.objects.get(pk=tenant_a.member.pk)
    profile.is_active = False
    profile.save()
    assert get_cached_account_for_user(user) is None
    assert not get_cached_profile(user.pk, tenant_a.account.pk).is_active


@pytest.mark.django_db
def test_renamed_and_deactivated_user_are_seen_at_once(tenant_a):
    user = User.objects.get(pk=tenant_a.member.user_id)
    assert get_cached_user_for_user_id(user_id=user.pk).username == "alpha-member"
    assert tenant_a.member.cached_user.username == "alpha-member"
    user.username = "alpha-renamed"
    user.save()
    assert get_cached_user_for_user_id(user_id=user.pk).username == "alpha-renamed"
    assert tenant_a.member.cached_user.username == "alpha-renamed"
    with pytest.raises(User.DoesNotExist):
        get_cached_user_for_username("alpha-member")
    user.is_active = False
    user.save()
    assert not get_cached_user_for_user_id(user_id=user.pk).is_active
    assert not Workspace.objects.with_read_permission_for(
        get_cached_user_for_user_id(user_id=user.pk)
    ).exists()


@pytest.mark.django_db
def test_deleted_user_is_seen_at_once(tenant_a):
    pk = tenant_a.member.user_id
    assert get_cached_user_for_user_id(user_id=pk) is not None
    assert get_cached_user_for_username("alpha-member").pk == pk
    User.objects.get(pk=pk).delete()
    assert get_cached_user_for_user_id(user_id=pk) is None
    with pytest.raises(User.DoesNotExist):
        get_cached_user_for_username("alpha-member")


@pytest.mark.django_db
def test_new_default_account_is_seen_at_once(platform):
    assert get_cached_default_account() == platform.account
    old = Account.objects.get(pk=platform.account.pk)
    old.is_default_account = False
    old.save()
    with pytest.raises(Account.DoesNotExist):
        get_cached_default_account()
    new = Account.objects.create(company_name="New platform", is_default_account=True)
    assert get_cached_default_account() == new


@pytest.mark.django_db
def test_admin_change_is_seen_at_once(tenant_a):
    assert get_cached_admin_user_for_account(tenant_a.account) == tenant_a.admin.user
    member = UserProfile.objects.get(pk=tenant_a.member.pk)
    member.role = UserProfile.ROLE_ADMIN
    member.save()
    admin = UserProfile.objects.get(pk=tenant_a.admin.pk)
    admin.role = UserProfile.ROLE_MEMBER
    admin.save()
    assert get_cached_admin_user_for_account(tenant_a.account) == tenant_a.member.user


@pytest.mark.django_db
def test_invalidation_is_repeated_on_commit(tenant_a, django_capture_on_commit_callbacks):
    """A reader that reloads the old row between the save and the commit cannot keep it."""
    account = Account.objects.get(pk=tenant_a.account.pk)
    old = Account.objects.get(pk=account.pk)
    key = account_number_key(account.account_number)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            account.company_name = "Renamed"
            account.save()
            # another process, not seeing the uncommitted row, caches the old one
            tenant_cache.get_or_load(key, lambda: old)
    assert callbacks
    assert get_cached_account_by_number(account.account_number).company_name == "Renamed"


# --- two processes sharing one Redis ----------------------------------------------------
WORKER = r"""
import json, sys
import django
django.setup()
from django.db import connection
from tenancy.wall import enter_platform
enter_platform("cache test worker")  # not a request: explicit platform mode
from django.test.utils import CaptureQueriesContext
ns = {"CaptureQueriesContext": CaptureQueriesContext, "connection": connection}
exec(
    "from django.contrib.auth import get_user_model\n"
    "from accounts.models import Account, UserProfile\n"
    "from accounts.utils import *\n"
    "User = get_user_model()\n",
    ns,
)
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    ns.pop("result", None)
    try:
        exec(json.loads(line), ns)
        out = {"ok": True, "result": ns.get("result")}
    except Exception as exc:
        out = {"ok": False, "error": type(exc).__name__ + ": " + str(exc)}
    print(json.dumps(out, default=str), flush=True)
"""


class Worker:
    """A Django process that runs snippets sent on stdin and answers ``result`` as JSON."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", WORKER], cwd=ROOT, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        assert self._read() == {"ready": True}

    def _pump(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self._lines.put(line)
        self._lines.put("")

    def _read(self) -> dict:
        try:
            line = self._lines.get(timeout=60)  # a hung worker fails the test, never hangs it
        except queue.Empty:
            raise AssertionError("worker did not answer") from None
        if not line:
            self._log.flush()
            raise AssertionError(f"worker died: {Path(self._log.name).read_text()[-2000:]}")
        return json.loads(line)

    def __call__(self, code: str) -> object:
        self.proc.stdin.write(json.dumps(code) + "\n")  # type: ignore[union-attr]
        self.proc.stdin.flush()  # type: ignore[union-attr]
        answer = self._read()
        if not answer["ok"]:
            raise AssertionError(f"worker error: {answer['error']}\n{code}")
        return answer["result"]

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        stop_process(self.proc)
        self._log.close()


@contextmanager
def shared_database_url(tmp_path: Path) -> Iterator[str]:
    """A database both workers can see: a fresh PostgreSQL database beside the one under
    test on the PostgreSQL run, a SQLite file otherwise (the test DB is in memory)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        return
    import psycopg

    parsed = urlparse(url)
    name = f"{parsed.path.lstrip('/') or 'smarter'}_twoproc"
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield parsed._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def two_processes(tmp_path) -> Iterator[tuple[Worker, Worker]]:
    """Two Django processes on one database and one throwaway Redis."""
    with throwaway_redis() as redis_url:
        with shared_database_url(tmp_path) as database_url:
            env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
            env.update(
                DJANGO_SETTINGS_MODULE="smarter.settings", DATABASE_URL=database_url,
                REDIS_URL=redis_url, DEBUG="true", LOG_LEVEL="WARNING",
                # level 1 must not expire during the test: only invalidation may refresh it
                TENANCY_L1_TTL="3600", TENANCY_L2_TTL="3600", PYTHONPATH=str(ROOT),
            )
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
                cwd=ROOT, env=env, check=True, timeout=120, capture_output=True,
            )
            a = Worker(env, tmp_path / "a.log")
            b = Worker(env, tmp_path / "b.log")
            try:
                yield a, b
            finally:
                a.close()
                b.close()


READ_IN_B = """
with CaptureQueriesContext(connection) as q:
    acc = get_cached_account_by_number(NUMBER)
    user = get_cached_user_for_user_id(user_id=USER_ID)
    try:
        by_name = get_cached_user_for_username(NAME).pk
    except User.DoesNotExist:
        by_name = None
    account_for_user = get_cached_account_for_user(user)
result = {
    "queries": len(q),
    "active": acc.is_active if acc else None,
    "company": acc.company_name if acc else None,
    "account_for_user": getattr(account_for_user, "pk", None),
    "username": user.username if user else None,
    "by_name": by_name,
    # a queryset (one query) over the profile ids the cache holds
    "profiles": [p.pk for p in UserProfile.get_cached_objects(user=user)],
}
"""


@pytest.mark.services
def test_another_process_sees_changes_through_redis(two_processes):
    a, b = two_processes
    ids = a(
        "acc = Account.objects.create(company_name='Acme')\n"
        "other = Account.objects.create(company_name='Other')\n"
        "u = User.objects.create_user('bob', email='bob@acme.test')\n"
        "p = UserProfile.objects.create(user=u, account=acc)\n"
        "p2 = UserProfile.objects.create(user=u, account=other)\n"
        "result = [acc.account_number, u.pk, acc.pk, p.pk, other.pk, p2.pk]"
    )
    number, user_id, acc_pk, p_pk, other_pk, p2_pk = ids
    b(f"NUMBER, USER_ID, NAME = {number!r}, {user_id}, 'bob'")

    def read_in_b() -> dict:
        return b(READ_IN_B)

    first = read_in_b()
    assert first["active"] and first["username"] == "bob" and first["by_name"] == user_id
    assert first["account_for_user"] == acc_pk and first["profiles"] == [p_pk, p2_pk]
    warm = read_in_b()
    assert warm["queries"] == 0  # B serves from its own level 1 now
    # control: a write that sends no signal is not seen, so B really is caching
    a(f"Account.objects.filter(pk={acc_pk}).update(company_name='Silent')")
    assert read_in_b()["company"] == "Acme"

    a(f"acc = Account.objects.get(pk={acc_pk}); acc.is_active = False; acc.save()")
    after = read_in_b()
    assert after["active"] is False and after["company"] == "Silent"
    assert after["account_for_user"] == other_pk  # the inactive account is skipped

    a(f"UserProfile.objects.get(pk={p2_pk}).delete()")
    assert read_in_b()["profiles"] == []  # acme is inactive, the other membership is gone
    assert read_in_b()["account_for_user"] is None

    a(f"u = User.objects.get(pk={user_id}); u.username = 'robert'; u.save()")
    renamed = read_in_b()
    assert renamed["username"] == "robert" and renamed["by_name"] is None
    b("NAME = 'robert'")
    assert read_in_b()["by_name"] == user_id

    a(f"acc = Account.objects.get(pk={acc_pk}); acc.is_active = True; acc.save()")
    back = read_in_b()
    assert back["active"] is True and back["account_for_user"] == acc_pk
    assert b(READ_IN_B)["queries"] == 0  # and it is cached again

    # the other direction: B changes, A sees it
    a(f"result = get_cached_account_by_number({number!r}).company_name")
    b(f"acc = Account.objects.get(pk={acc_pk}); acc.company_name = 'From B'; acc.save()")
    assert a(f"result = get_cached_account_by_number({number!r}).company_name") == "From B"
