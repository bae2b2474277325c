"""Importing a big account (lifecycle/importer.py): members are resolved in batches, so the
statements an import sends do not grow with its members, and the batched rules are the
one-by-one rules (an existing user joins once, a taken username is suffixed)."""

from __future__ import annotations

import io

from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, UserProfile
from lifecycle.importer import import_account
from tests.support.portability_support import export_bytes


def big_account(members: int) -> Account:
    """An account of ``members`` members; every other one has a verified address."""
    account = Account.objects.create(company_name=f"Big {members}")
    users = User.objects.bulk_create(
        User(username=f"big{members}-{i}", email=f"big{members}-{i}@big.test", first_name="Ada")
        for i in range(members))
    EmailAddress.objects.bulk_create(
        EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users[::2])
    UserProfile.objects.bulk_create(UserProfile(user=u, account=account) for u in users)
    return account


def import_statements(members: int) -> int:
    data = export_bytes(big_account(members))
    with CaptureQueriesContext(connection) as queries:
        report = import_account(io.BytesIO(data))
    assert len(report.users_matched) == (members + 1) // 2
    assert len(report.users_created) == members // 2
    return len(queries)


def test_an_imports_statements_do_not_grow_with_its_members(platform):
    assert import_statements(40) == import_statements(10)


def test_matched_once_created_users_suffixed_and_rows_kept(platform):
    """Two members whose addresses one existing person verified: the first is that person,
    the second a new user (an existing user joins an account once); created users keep their
    names and address, and their taken usernames get a suffix."""
    account = big_account(4)
    profiles = list(UserProfile.objects.filter(account=account).select_related("user").order_by("pk"))
    person = User.objects.create(username="someone-else", email="x@big.test")
    EmailAddress.objects.filter(user__in=[p.user for p in profiles[:2]]).delete()
    for profile in profiles[:2]:
        EmailAddress.objects.create(user=person, email=profile.user.email.upper(), verified=True)
    report = import_account(io.BytesIO(export_bytes(account)))
    copied = list(UserProfile.objects.filter(account=report.account).select_related("user").order_by("pk"))
    assert copied[0].user == person
    second = copied[1].user
    assert second not in (person, profiles[1].user) and not second.has_usable_password()
    assert second.username.startswith(f"{profiles[1].user.username}-")
    assert (second.email, second.first_name) == (profiles[1].user.email, "Ada")
    assert copied[2].user == profiles[2].user  # matched by its own verified address
    assert copied[3].user.username.startswith(f"{profiles[3].user.username}-")
    assert report.users_matched == [profiles[0].user.email, profiles[2].user.email]
    assert report.users_created == [profiles[1].user.email, profiles[3].user.email]
