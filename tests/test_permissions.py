"""Read and ownership permissions on an owned model (Workspace), and tenant scoping.

"Staff" means account admin of that account (``UserProfile.role == "admin"``), not the
global ``User.is_staff`` flag (docs/ARCHITECTURE.md, Roles).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account, UserProfile
from accounts.provisioning import add_member
from tenancy.cache import tenant_cache
from tenancy.context import get_current_account_id, tenant_context
from workspaces.models import Workspace

User = get_user_model()


@dataclass
class World:
    """Four accounts (platform + alpha, bravo, charlie), their people and one row each."""

    platform: object
    a: object
    b: object
    c: object
    users: dict
    accounts: dict


def _own(profile: UserProfile, name: str) -> Workspace:
    return Workspace.objects.create(user_profile=profile, name=name)


@pytest.fixture
def world(platform, make_tenant) -> World:
    a, b, c = make_tenant("alpha"), make_tenant("bravo"), make_tenant("charlie")
    inactive, _ = add_member(a.account, "inactive", email="inactive@alpha.test")
    # alpha-admin: admin of alpha and a plain member of bravo
    staff_in_b = UserProfile.objects.create(user=a.admin.user, account=b.account)
    # globally is_staff, but only a member of charlie: not staff for permissions
    fake, _ = add_member(c.account, "fake-staff", email="fake@charlie.test")
    User.objects.filter(pk=fake.user_id).update(is_staff=True)
    for name, profile in [
        ("plat-admin", platform.admin), ("plat-member", platform.member),
        ("a-admin", a.admin), ("a-member", a.member), ("a-inactive", inactive),
        ("b-admin", b.admin), ("b-member", b.member), ("b-staff", staff_in_b),
        ("c-admin", c.admin), ("c-member", c.member), ("c-fake", fake),
    ]:
        _own(profile, name)
    inactive.user.is_active = False
    inactive.user.save()
    users = {
        "anonymous": AnonymousUser(),
        "inactive": User.objects.get(username="inactive"),
        "regular": User.objects.get(username="alpha-member"),
        "staff": User.objects.get(username="alpha-admin"),
        "superuser": User.objects.get(username="platform-admin"),
        "fake-staff": User.objects.get(username="fake-staff"),
        "platform-member": User.objects.get(username="platform-member"),
    }
    accounts = {"platform": platform.account, "a": a.account, "b": b.account, "c": c.account}
    return World(platform, a, b, c, users, accounts)


def names(qs) -> set[str]:
    return set(qs.values_list("name", flat=True))


A_ROWS = {"a-admin", "a-member", "a-inactive"}
B_ROWS = {"b-admin", "b-member", "b-staff"}
C_ROWS = {"c-admin", "c-member", "c-fake"}
ALL = A_ROWS | B_ROWS | C_ROWS | {"plat-admin", "plat-member"}

READ = {
    "anonymous": set(),
    "inactive": set(),
    "regular": A_ROWS | {"plat-admin"},
    "staff": A_ROWS | B_ROWS | {"plat-admin"},
    "superuser": ALL,
    "fake-staff": C_ROWS | {"plat-admin"},
    "platform-member": {"plat-admin", "plat-member"},
}
OWN = {
    "anonymous": set(),
    "inactive": set(),
    "regular": {"a-member"},
    "staff": A_ROWS | {"b-staff"},
    "superuser": ALL,
    "fake-staff": {"c-fake"},
    "platform-member": {"plat-member"},
}


@pytest.mark.django_db
@pytest.mark.parametrize("who", sorted(READ))
def test_read_matrix(world, who):
    user = world.users[who]
    assert names(Workspace.objects.with_read_permission_for(user)) == READ[who]
    assert names(Workspace.objects.all().with_read_permission_for(user)) == READ[who]


@pytest.mark.django_db
@pytest.mark.parametrize("who", sorted(OWN))
def test_ownership_matrix(world, who):
    user = world.users[who]
    owned = Workspace.objects.with_ownership_permission_for(user)
    assert names(owned) == OWN[who]
    assert OWN[who] <= READ[who]


@pytest.mark.django_db
def test_permission_querysets_chain(world):
    staff = world.users["staff"]
    qs = Workspace.objects.filter(name__startswith="b-").with_read_permission_for(staff)
    assert names(qs) == B_ROWS
    qs = Workspace.objects.with_ownership_permission_for(staff).exclude(name="a-admin")
    assert names(qs) == {"a-member", "a-inactive", "b-staff"}


@pytest.mark.django_db
def test_user_none_has_no_access(world):
    assert names(Workspace.objects.with_read_permission_for(None)) == set()
    assert names(Workspace.objects.with_ownership_permission_for(None)) == set()


@pytest.mark.django_db
def test_deactivated_account_and_profile_lose_access(world):
    charlie = world.accounts["c"]
    charlie.is_active = False
    charlie.save()
    member = User.objects.get(username="charlie-member")
    admin = User.objects.get(username="charlie-admin")
    assert names(Workspace.objects.with_read_permission_for(member)) == {"plat-admin"}
    assert names(Workspace.objects.with_ownership_permission_for(admin)) == set()
    # removing the staff user's bravo membership leaves alpha
    UserProfile.objects.get(user=world.users["staff"], account=world.accounts["b"]).delete()
    staff = world.users["staff"]
    assert names(Workspace.objects.with_read_permission_for(staff)) == A_ROWS | {"plat-admin"}
    profile = UserProfile.objects.get(user=staff, account=world.accounts["a"])
    profile.is_active = False
    profile.save()
    assert names(Workspace.objects.with_read_permission_for(staff)) == {"plat-admin"}
    assert names(Workspace.objects.with_ownership_permission_for(staff)) == set()


@pytest.mark.django_db
def test_promotion_to_account_admin_grants_ownership(world):
    regular = world.users["regular"]
    profile = UserProfile.objects.get(user=regular, account=world.accounts["a"])
    profile.role = UserProfile.ROLE_ADMIN
    profile.save()
    assert names(Workspace.objects.with_ownership_permission_for(regular)) == A_ROWS
    regular.refresh_from_db()
    assert not regular.is_staff  # the role grants it; the global flag is left alone


@pytest.mark.django_db
def test_platform_rows_need_an_active_platform_admin(world):
    regular = world.users["regular"]
    platform_admin = world.platform.admin
    platform_admin.role = UserProfile.ROLE_MEMBER
    platform_admin.save()
    # platform-member must not stand in as the platform admin
    assert names(Workspace.objects.with_read_permission_for(regular)) == A_ROWS


# --- tenant context --------------------------------------------------------------------
@pytest.mark.django_db
def test_tenant_context_scopes_to_one_tenant(world):
    acc = world.accounts
    staff, superuser = world.users["staff"], world.users["superuser"]
    regular = world.users["regular"]
    read = Workspace.objects.with_read_permission_for
    own = Workspace.objects.with_ownership_permission_for
    with tenant_context(acc["a"].pk):
        assert get_current_account_id() == acc["a"].pk
        assert names(read(staff)) == A_ROWS | {"plat-admin"}
        assert names(own(staff)) == A_ROWS
        assert names(read(superuser)) == A_ROWS | {"plat-admin"}
        assert names(own(superuser)) == A_ROWS
    with tenant_context(acc["b"].pk):
        assert names(read(staff)) == B_ROWS | {"plat-admin"}
        assert names(own(staff)) == {"b-staff"}
        assert names(read(regular)) == {"plat-admin"}
        assert names(own(regular)) == set()
    with tenant_context(acc["c"].pk):
        assert names(read(staff)) == {"plat-admin"}
        assert names(own(staff)) == set()
        assert names(own(superuser)) == C_ROWS
    with tenant_context(acc["platform"].pk):
        assert names(read(regular)) == {"plat-admin"}
        assert names(read(world.users["platform-member"])) == {"plat-admin", "plat-member"}
        assert names(read(superuser)) == {"plat-admin", "plat-member"}
    assert get_current_account_id() is None
    assert names(read(staff)) == A_ROWS | B_ROWS | {"plat-admin"}
    with tenant_context(None):
        assert names(read(superuser)) == ALL


@pytest.mark.django_db
def test_tenant_context_nests_and_is_restored_on_errors(world):
    a, b = world.accounts["a"].pk, world.accounts["b"].pk
    assert get_current_account_id() is None
    with pytest.raises(RuntimeError):
        with tenant_context(a):
            with tenant_context(b):
                assert get_current_account_id() == b
            assert get_current_account_id() == a
            raise RuntimeError("boom")
    assert get_current_account_id() is None
    staff = world.users["staff"]
    assert names(Workspace.objects.with_ownership_permission_for(staff)) == A_ROWS | {"b-staff"}


@pytest.mark.django_db
def test_querysets_are_scoped_when_built_not_when_evaluated(world):
    """The tenant is read when the permission filter is applied."""
    staff = world.users["staff"]
    with tenant_context(world.accounts["b"].pk):
        qs = Workspace.objects.with_read_permission_for(staff)
    assert names(qs) == B_ROWS | {"plat-admin"}


# --- property: never another tenant's rows ---------------------------------------------
mostly = st.sampled_from([True, True, True, False])
membership = st.tuples(st.integers(0, 2), st.booleans(), mostly)  # account, admin, active
person = st.tuples(st.lists(membership, min_size=1, max_size=3), mostly)  # + user active
scenario = st.fixed_dictionaries({
    "accounts": st.integers(2, 3),
    "inactive_accounts": st.sets(st.integers(0, 2), max_size=1),
    "people": st.lists(person, min_size=2, max_size=4),
    "rows": st.lists(st.tuples(st.integers(0, 3), st.integers(0, 2)), min_size=2, max_size=10),
})


@pytest.mark.django_db
@settings(
    max_examples=30, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=scenario)
def test_read_never_leaks_another_tenant(platform, data):
    platform_row = Workspace.objects.get_or_create(user_profile=platform.admin, name="plat")[0]
    Workspace.objects.get_or_create(user_profile=platform.member, name="plat-private")
    with transaction.atomic():
        cache.clear()
        tenant_cache.clear_local()
        try:
            _check_scenario(platform, platform_row, data)
        finally:
            transaction.set_rollback(True)
    cache.clear()
    tenant_cache.clear_local()


def _check_scenario(platform, platform_row, data) -> None:
    accounts = [Account.objects.create(company_name=f"T{i}") for i in range(data["accounts"])]
    for i in data["inactive_accounts"]:
        if i < len(accounts):
            accounts[i].is_active = False
            accounts[i].save()
    people = []
    for n, (memberships, user_active) in enumerate(data["people"]):
        user = User.objects.create_user(f"u{n}", email=f"u{n}@x.test")
        profiles = {}
        for idx, admin, active in memberships:
            account = accounts[idx % len(accounts)]
            if account.pk in profiles:
                continue
            profiles[account.pk] = UserProfile.objects.create(
                user=user, account=account, is_active=active,
                role=UserProfile.ROLE_ADMIN if admin else UserProfile.ROLE_MEMBER,
            )
        if not user_active:
            user.is_active = False
            user.save()
        people.append((user, list(profiles.values())))
    for k, (who, which) in enumerate(data["rows"]):
        _, profiles = people[who % len(people)]
        if profiles:
            Workspace.objects.create(user_profile=profiles[which % len(profiles)], name=f"w{k}")
    active_ids = {a.pk for a in accounts if a.is_active} | {platform.account.pk}
    all_rows = list(Workspace.objects.all())
    # every scope: no tenant, the platform's, each generated account's
    for tenant_id in [None, platform.account.pk, *(a.pk for a in accounts)]:
        for user, profiles in people:
            _check_user(user, profiles, tenant_id, active_ids, all_rows, platform_row)


def _check_user(user, profiles, tenant_id, active_ids, all_rows, platform_row) -> None:
    live = [p for p in profiles if p.is_active and p.account_id in active_ids]
    member_of = {p.account_id for p in live} if user.is_active else set()
    staff_of = {p.account_id for p in live if p.is_staff} if user.is_active else set()
    own_profiles = {p.pk for p in live} if user.is_active else set()
    if tenant_id is not None:
        member_of &= {tenant_id}
        staff_of &= {tenant_id}
    with tenant_context(tenant_id):
        readable = set(Workspace.objects.with_read_permission_for(user))
        owned = set(Workspace.objects.with_ownership_permission_for(user))
    for row in readable:
        assert row.account_id in member_of or row.pk == platform_row.pk, (row, user, tenant_id)
    expected = {r for r in all_rows if r.account_id in member_of}
    if user.is_active:
        expected.add(platform_row)
    assert readable == expected, (user, tenant_id)
    assert owned <= readable
    for row in owned:
        assert row.account_id in staff_of or (
            row.user_profile_id in own_profiles and row.account_id in member_of
        ), (row, user, tenant_id)
    expected_owned = {
        r for r in all_rows
        if r.account_id in staff_of or (r.user_profile_id in own_profiles and r.account_id in member_of)
    }
    assert owned == expected_owned, (user, tenant_id)
