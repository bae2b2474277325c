"""Fail closed, and loud: running a query of a tenant table with no wall mode in force (a
script that forgot ``enter_platform``, a thread) raises ``NoWallModeError`` naming the fix,
instead of reading empty tables; the database underneath still shows no rows."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count

from accounts.models import UserProfile
from tenancy.context import tenant_context
from tenancy.wall import NoWallModeError, platform_mode
from workspaces.models import Workspace

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
import django
django.setup()
from accounts.models import Account
from accounts.utils import get_user_profiles_for_account
from tenancy.wall import NoWallModeError
try:
    print("result", get_user_profiles_for_account(Account(id=1)))
except NoWallModeError as error:
    print("error", error)
"""


def test_a_fresh_script_that_forgot_the_mode_is_told_the_fix(tmp_path):
    """The seed's get_user_profiles_for_account used to answer None here."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DATABASE_POOL", "REDIS_URL", "DJANGO_SETTINGS_MODULE")}
    env.update(DJANGO_SETTINGS_MODULE="smarter.settings",
               DATABASE_URL=f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("error accounts.UserProfile was queried with no wall mode")
    assert "enter_platform(reason)" in done.stdout
    assert "tenant_context(account_id)" in done.stdout


def _in_a_thread(run: Callable[[], Any]) -> Any:
    """``run()`` in a new thread (which starts with no mode): its result or its exception."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = run()
        except BaseException as error:  # noqa: BLE001  # handed back to the test
            outcome["value"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    return outcome["value"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("query", [
    lambda: list(UserProfile.objects.all()),
    lambda: UserProfile.objects.filter(account_id=1).first(),
    lambda: UserProfile.objects.count(),
    lambda: UserProfile.objects.exists(),
    lambda: list(UserProfile.objects.values_list("id", flat=True).iterator()),
    lambda: UserProfile.objects.aggregate(n=Count("id")),
    lambda: Workspace.objects.filter(name="x").update(name="y"),
    lambda: Workspace.objects.filter(name="x").delete(),
], ids=["list", "first", "count", "exists", "iterator", "aggregate", "update", "delete"])
def test_every_way_a_queryset_runs_raises_in_a_thread_with_no_mode(tenant_a, query):
    error = _in_a_thread(query)
    assert isinstance(error, NoWallModeError), error
    assert "platform_mode(reason)" in str(error)


@pytest.mark.django_db(transaction=True)
def test_a_thread_that_enters_a_mode_reads_as_before(tenant_a):
    account_id = tenant_a.account.pk

    def in_platform_mode() -> int:
        try:
            with platform_mode("the test's thread"):
                return UserProfile.objects.filter(account_id=account_id).count()
        finally:
            connection.close()

    def in_tenant_mode() -> int:
        try:
            with tenant_context(account_id):
                return UserProfile.objects.filter(account_id=account_id).count()
        finally:
            connection.close()

    assert _in_a_thread(in_platform_mode) == _in_a_thread(in_tenant_mode) > 0


def test_building_a_queryset_needs_no_mode():
    """Forms and the admin declare querysets at import time; only running one needs a mode."""
    queryset = _in_a_thread(lambda: UserProfile.objects.filter(account_id=1).order_by("id"))
    assert not isinstance(queryset, BaseException)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row-level security is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_the_database_still_shows_no_rows_with_no_mode(tenant_a):
    def raw() -> int:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM accounts_userprofile")
                return int(cursor.fetchone()[0])
        finally:
            connection.close()

    assert _in_a_thread(raw) == 0
