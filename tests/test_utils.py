"""The seed API of accounts/utils.py and UserProfile's cached helpers.

Every function is called in its keyword and positional forms; missing objects give None or
an exception exactly as documented; ``invalidate=True`` really refreshes (rows are changed
with ``queryset.update()``, which sends no signal, so only a refresh can see the change).
"""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser

from accounts.models import Account, UserProfile
from accounts.provisioning import add_member
from accounts.utils import (
    account_number_from_url,
    get_cached_account_for_user,
    get_cached_admin_user_for_account,
    get_cached_default_account,
    get_cached_smarter_admin_user_profile,
    get_cached_user_for_user_id,
    get_cached_user_for_username,
    get_user_profiles_for_account,
    get_users_for_account,
    valid_resource_owners_for_user,
)

User = get_user_model()
N = "3141-5926-5359"


# --- account_number_from_url -----------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        f"https://hr.{N}.alpha.api.example.com/",
        f"https://{N}.alpha.api.example.com",
        f"http://{N}.beta.api.example.com:8000/some/path?x=1#frag",
        f"HTTPS://HR.{N}.ALPHA.API.EXAMPLE.COM./",
        f"{N}.alpha.api.example.com",
        f"hr.{N}.alpha.api.localhost:8000",
        f"https://user:pw@{N}.alpha.api.example.com/",
    ],
)
def test_account_number_from_url_reads_the_host(url):
    assert account_number_from_url(url) == N
    assert account_number_from_url(url=url) == N
    assert account_number_from_url(url, invalidate=True) == N
    assert account_number_from_url(url, True) == N


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "https://example.com/",
        "https://alpha.api.example.com/",
        f"https://example.com/{N}/",  # path
        f"https://example.com/?account={N}.alpha.api.example.com",  # query
        f"https://example.com#{N}.alpha.api.example.com",  # fragment
        f"https://{N}.alpha.api.example.com@evil.example/",  # userinfo, not host
        f"https://{N}.example.com/",  # no env.api
        "https://3141-5926-535.alpha.api.example.com/",  # short group
        "https://3141-5926-53590.alpha.api.example.com/",
        "https://\u0663141-5926-5359.alpha.api.example.com/",  # non-ASCII digit
        f"https://bad_label.{N}.alpha.api.example.com/",  # malformed host
        f"https://a.b.{N}.alpha.api.example.com/",  # two workspace labels
        "x" * 5000,
    ],
)
def test_account_number_from_url_none_when_absent(url):
    assert account_number_from_url(url) is None
    assert account_number_from_url(url=url, invalidate=True) is None


def test_account_number_from_url_rejects_non_strings():
    with pytest.raises(TypeError):
        account_number_from_url(12345)  # type: ignore[arg-type]


# --- get_cached_default_account --------------------------------------------------------
@pytest.mark.django_db
def test_default_account_missing_raises():
    with pytest.raises(Account.DoesNotExist):
        get_cached_default_account()
    with pytest.raises(Account.DoesNotExist):
        get_cached_default_account(invalidate=True)


@pytest.mark.django_db
def test_default_account_is_cached_and_invalidate_refreshes(platform, django_assert_num_queries):
    assert get_cached_default_account() == platform.account
    with django_assert_num_queries(0):
        assert get_cached_default_account().pk == platform.account.pk
    Account.objects.filter(pk=platform.account.pk).update(company_name="Renamed")
    assert get_cached_default_account().company_name != "Renamed"  # no signal: still cached
    assert get_cached_default_account(invalidate=True).company_name == "Renamed"
    assert get_cached_default_account(True).company_name == "Renamed"
    assert get_cached_default_account().company_name == "Renamed"  # refreshed for all


# --- get_cached_user_for_user_id / get_cached_user_for_username ------------------------
@pytest.mark.django_db
def test_user_for_user_id(tenant_a, django_assert_num_queries, caplog):
    user = tenant_a.member.user
    assert get_cached_user_for_user_id(user_id=user.pk) == user
    with django_assert_num_queries(0):
        assert get_cached_user_for_user_id(user.pk).username == "alpha-member"
    with caplog.at_level(logging.ERROR, logger="accounts.utils"):
        assert get_cached_user_for_user_id(user_id=987654) is None
    assert "987654" in caplog.text
    assert get_cached_user_for_user_id(user_id=None) is None
    assert get_cached_user_for_user_id() is None


@pytest.mark.django_db
def test_user_for_user_id_invalidate_refreshes(tenant_a):
    user = tenant_a.member.user
    get_cached_user_for_user_id(user_id=user.pk)
    User.objects.filter(pk=user.pk).update(first_name="Changed")
    assert get_cached_user_for_user_id(user_id=user.pk).first_name == ""
    assert get_cached_user_for_user_id(user_id=user.pk, invalidate=True).first_name == "Changed"
    assert get_cached_user_for_user_id(user.pk).first_name == "Changed"


@pytest.mark.django_db
def test_user_for_username(tenant_a, django_assert_num_queries, caplog):
    user = tenant_a.admin.user
    assert get_cached_user_for_username(username="alpha-admin") == user
    with django_assert_num_queries(0):
        assert get_cached_user_for_username("alpha-admin") == user
    with caplog.at_level(logging.ERROR, logger="accounts.utils"):
        with pytest.raises(User.DoesNotExist):
            get_cached_user_for_username("nobody")
    assert "nobody" in caplog.text
    with pytest.raises(User.DoesNotExist):
        get_cached_user_for_username(username="nobody", invalidate=True)
    with pytest.raises(User.DoesNotExist):
        get_cached_user_for_username()
    with pytest.raises(User.DoesNotExist):
        get_cached_user_for_username(username="")


@pytest.mark.django_db
def test_user_for_username_invalidate_refreshes(tenant_a):
    get_cached_user_for_username("alpha-admin")
    with pytest.raises(User.DoesNotExist):
        get_cached_user_for_username("late")  # the miss is cached too
    late = User.objects.bulk_create([User(username="late")])[0]  # no signal
    with pytest.raises(User.DoesNotExist):
        get_cached_user_for_username("late")
    assert get_cached_user_for_username("late", invalidate=True).pk == late.pk
    User.objects.filter(username="alpha-admin").update(email="new@alpha.test")
    assert get_cached_user_for_username("alpha-admin").email == "admin@alpha.test"
    assert get_cached_user_for_username(username="alpha-admin", invalidate=True).email == (
        "new@alpha.test"
    )


@pytest.mark.django_db
def test_user_for_username_after_rename(tenant_a):
    user = tenant_a.member.user
    assert get_cached_user_for_username("alpha-member") == user
    user.username = "alpha-renamed"
    user.save()
    with pytest.raises(User.DoesNotExist):
        get_cached_user_for_username("alpha-member")
    assert get_cached_user_for_username("alpha-renamed").pk == user.pk
    assert get_cached_user_for_user_id(user_id=user.pk).username == "alpha-renamed"
    # the old name may be reused by a new user
    newcomer = User.objects.create_user("alpha-member")
    assert get_cached_user_for_username("alpha-member").pk == newcomer.pk


# --- get_cached_account_for_user -------------------------------------------------------
@pytest.mark.django_db
def test_account_for_user(tenant_a, tenant_b, django_assert_num_queries, caplog):
    user = tenant_a.member.user
    assert get_cached_account_for_user(user) == tenant_a.account
    assert get_cached_account_for_user(user=user) == tenant_a.account
    assert get_cached_account_for_user(user, invalidate=True) == tenant_a.account
    with django_assert_num_queries(0):
        assert get_cached_account_for_user(user=user).pk == tenant_a.account.pk
    # a user in two accounts: the first membership
    UserProfile.objects.create(user=user, account=tenant_b.account)
    assert get_cached_account_for_user(user) == tenant_a.account
    loner = User.objects.create_user("loner")
    with caplog.at_level(logging.WARNING, logger="accounts.utils"):
        assert get_cached_account_for_user(loner) is None
    assert "no account" in caplog.text
    assert get_cached_account_for_user(AnonymousUser()) is None
    assert get_cached_account_for_user(None) is None
    assert get_cached_account_for_user() is None


@pytest.mark.django_db
def test_account_for_user_skips_inactive_accounts_and_profiles(tenant_a, tenant_b):
    user = tenant_a.member.user
    UserProfile.objects.create(user=user, account=tenant_b.account)
    tenant_a.account.is_active = False
    tenant_a.account.save()
    assert get_cached_account_for_user(user) == tenant_b.account
    profile_b = UserProfile.objects.get(user=user, account=tenant_b.account)
    profile_b.is_active = False
    profile_b.save()
    assert get_cached_account_for_user(user) is None


@pytest.mark.django_db
def test_account_for_user_invalidate_refreshes(tenant_a, tenant_b):
    user = tenant_a.member.user
    assert get_cached_account_for_user(user) == tenant_a.account
    UserProfile.objects.filter(pk=tenant_a.member.pk).update(is_active=False)  # no signal
    UserProfile.objects.bulk_create(
        [UserProfile(user=user, account=tenant_b.account, created_at=tenant_b.account.created_at,
                     updated_at=tenant_b.account.created_at)]
    )
    assert get_cached_account_for_user(user) == tenant_a.account  # stale, as expected
    assert get_cached_account_for_user(user, invalidate=True) == tenant_b.account
    Account.objects.filter(pk=tenant_b.account.pk).update(company_name="B renamed")
    assert get_cached_account_for_user(user=user, invalidate=True).company_name == "B renamed"


# --- get_cached_admin_user_for_account -------------------------------------------------
@pytest.mark.django_db
def test_admin_user_for_account(tenant_a, django_assert_num_queries):
    admin = tenant_a.admin.user
    assert get_cached_admin_user_for_account(tenant_a.account) == admin
    assert get_cached_admin_user_for_account(account=tenant_a.account) == admin
    assert get_cached_admin_user_for_account(invalidate=True, account=tenant_a.account) == admin
    with django_assert_num_queries(0):
        assert get_cached_admin_user_for_account(tenant_a.account).pk == admin.pk


@pytest.mark.django_db
@pytest.mark.parametrize("bad", [None, "3141-5926-5359", 1])
def test_admin_user_for_missing_account_raises(bad):
    with pytest.raises(ValueError):
        get_cached_admin_user_for_account(bad)


@pytest.mark.django_db
def test_admin_user_for_unsaved_account_raises():
    with pytest.raises(ValueError):
        get_cached_admin_user_for_account(account=Account(company_name="Unsaved"))


@pytest.mark.django_db
def test_admin_user_is_created_for_an_empty_account(platform):
    account = Account.objects.create(company_name="Empty")
    users_before = User.objects.count()
    admin = get_cached_admin_user_for_account(account)
    assert User.objects.count() == users_before + 1
    assert not admin.is_staff and not admin.is_superuser and not admin.has_usable_password()
    profile = UserProfile.objects.get(user=admin, account=account)
    assert profile.role == UserProfile.ROLE_ADMIN and profile.is_active
    # idempotent: the next call finds it
    assert get_cached_admin_user_for_account(account) == admin
    assert get_cached_admin_user_for_account(account, invalidate=True) == admin
    assert User.objects.count() == users_before + 1


@pytest.mark.django_db
def test_admin_user_is_never_a_plain_member(make_tenant):
    tenant = make_tenant("gamma")
    UserProfile.objects.filter(pk=tenant.admin.pk).delete()
    admin = get_cached_admin_user_for_account(tenant.account)
    assert admin != tenant.member.user
    assert UserProfile.objects.get(user=admin, account=tenant.account).role == "admin"
    assert not admin.is_superuser


@pytest.mark.django_db
def test_admin_user_follows_demotion_and_deactivation(make_tenant):
    tenant = make_tenant("gamma")
    second, _ = add_member(tenant.account, "gamma-admin2", email="a2@gamma.test", admin=True)
    assert get_cached_admin_user_for_account(tenant.account) == tenant.admin.user
    tenant.admin.role = UserProfile.ROLE_MEMBER
    tenant.admin.save()
    assert get_cached_admin_user_for_account(tenant.account) == second.user
    second.user.is_active = False
    second.user.save()
    replacement = get_cached_admin_user_for_account(tenant.account)
    assert replacement not in (second.user, tenant.admin.user, tenant.member.user)
    assert replacement.username.startswith(f"admin-{tenant.account.account_number}")


@pytest.mark.django_db
def test_admin_user_invalidate_refreshes(make_tenant):
    tenant = make_tenant("gamma")
    second, _ = add_member(tenant.account, "gamma-admin2", email="a2@gamma.test", admin=True)
    assert get_cached_admin_user_for_account(tenant.account) == tenant.admin.user
    UserProfile.objects.filter(pk=tenant.admin.pk).update(role="member")  # no signal
    assert get_cached_admin_user_for_account(tenant.account) == tenant.admin.user
    assert get_cached_admin_user_for_account(tenant.account, invalidate=True) == second.user


# --- get_cached_smarter_admin_user_profile ---------------------------------------------
@pytest.mark.django_db
def test_smarter_admin_profile_none_before_initialisation():
    assert get_cached_smarter_admin_user_profile() is None
    assert get_cached_smarter_admin_user_profile(invalidate=True) is None


@pytest.mark.django_db
def test_smarter_admin_profile(platform, django_assert_num_queries):
    assert get_cached_smarter_admin_user_profile() == platform.admin
    assert get_cached_smarter_admin_user_profile(True) == platform.admin
    with django_assert_num_queries(0):
        assert get_cached_smarter_admin_user_profile().pk == platform.admin.pk
    UserProfile.objects.filter(pk=platform.admin.pk).update(description="x")
    assert get_cached_smarter_admin_user_profile().description == ""
    assert get_cached_smarter_admin_user_profile(invalidate=True).description == "x"


@pytest.mark.django_db
def test_smarter_admin_profile_never_a_member_and_never_created(platform):
    users_before = User.objects.count()
    platform.admin.is_active = False
    platform.admin.save()
    assert get_cached_smarter_admin_user_profile() is None  # not platform-member
    UserProfile.objects.filter(account=platform.account).delete()
    assert get_cached_smarter_admin_user_profile() is None
    assert get_cached_smarter_admin_user_profile(invalidate=True) is None
    assert User.objects.count() == users_before


# --- get_user_profiles_for_account / get_users_for_account -----------------------------
@pytest.mark.django_db
def test_user_profiles_and_users_for_account(tenant_a, tenant_b):
    assert get_user_profiles_for_account(tenant_a.account) == [tenant_a.admin, tenant_a.member]
    assert get_user_profiles_for_account(account=tenant_b.account) == [tenant_b.admin, tenant_b.member]
    assert get_users_for_account(tenant_a.account) == [tenant_a.admin.user, tenant_a.member.user]
    assert get_users_for_account(account=tenant_b.account) == [
        tenant_b.admin.user, tenant_b.member.user
    ]
    empty = Account.objects.create(company_name="Empty")
    assert get_user_profiles_for_account(empty) is None
    assert get_users_for_account(empty) == []
    with pytest.raises(ValueError):
        get_user_profiles_for_account(None)
    with pytest.raises(ValueError):
        get_users_for_account(account=None)


# --- valid_resource_owners_for_user ----------------------------------------------------
@pytest.mark.django_db
def test_valid_resource_owners(tenant_a, tenant_b):
    third, _ = add_member(tenant_a.account, "alpha-third", email="third@alpha.test")
    gone, _ = add_member(tenant_a.account, "alpha-gone", email="gone@alpha.test")
    gone.is_active = False
    gone.save()
    third.user.is_active = False
    third.user.save()
    owners = valid_resource_owners_for_user(tenant_a.member)
    assert owners == [tenant_a.admin, tenant_a.member]
    assert valid_resource_owners_for_user(user_profile=tenant_b.admin) == [
        tenant_b.admin, tenant_b.member
    ]
    assert valid_resource_owners_for_user(None) == []


# --- UserProfile classmethods and cached properties ------------------------------------
@pytest.mark.django_db
def test_admin_for_account_prefers_admin_then_member_then_creates(make_tenant):
    tenant = make_tenant("gamma")
    assert UserProfile.admin_for_account(tenant.account) == tenant.admin.user
    assert UserProfile.admin_for_account(account=tenant.account) == tenant.admin.user
    tenant.admin.role = UserProfile.ROLE_MEMBER
    tenant.admin.save()
    # the seed's "designated user": the first member when there is no admin
    assert UserProfile.admin_for_account(tenant.account) == tenant.admin.user
    UserProfile.objects.filter(account=tenant.account).update(is_active=False)
    created = UserProfile.admin_for_account(tenant.account)
    assert created.username == f"admin-{tenant.account.account_number}"
    assert not created.is_staff and not created.is_superuser
    assert not created.has_usable_password()
    with pytest.raises(ValueError):
        UserProfile.admin_for_account(None)  # type: ignore[arg-type]


@pytest.mark.django_db
def test_cached_user_and_cached_account(tenant_a, django_assert_num_queries):
    profile = UserProfile.objects.get(pk=tenant_a.member.pk)
    assert profile.cached_user == tenant_a.member.user
    assert profile.cached_account == tenant_a.account
    with django_assert_num_queries(0):
        assert profile.cached_user.username == "alpha-member"
        assert profile.cached_account.account_number == tenant_a.account.account_number
    tenant_a.account.company_name = "Alpha Renamed"
    tenant_a.account.save()
    assert profile.cached_account.company_name == "Alpha Renamed"


@pytest.mark.django_db
def test_get_cached_object(tenant_a, tenant_b, django_assert_num_queries):
    member = tenant_a.member
    assert UserProfile.get_cached_object(member.pk) == member
    assert UserProfile.get_cached_object(pk=member.pk) == member
    with django_assert_num_queries(0):
        assert UserProfile.get_cached_object(pk=member.pk).pk == member.pk
    assert UserProfile.get_cached_object(user=member.user, account=tenant_a.account) == member
    assert UserProfile.get_cached_object(username="alpha-member", account=tenant_a.account) == member
    assert UserProfile.get_cached_object(user=member.user) == member
    assert UserProfile.get_cached_object(username="alpha-member") == member
    assert UserProfile.get_cached_object(user=member.user, account=tenant_b.account) is None
    assert UserProfile.get_cached_object(username="nobody") is None
    assert UserProfile.get_cached_object(pk=987654) is None
    assert UserProfile.get_cached_object() is None
    UserProfile.objects.filter(pk=member.pk).update(name="renamedProfile")
    assert UserProfile.get_cached_object(name="renamedProfile") == member
    assert UserProfile.get_cached_object(name="noSuchName") is None
    assert UserProfile.get_cached_object(pk=member.pk).name == ""  # cached
    assert UserProfile.get_cached_object(pk=member.pk, invalidate=True).name == "renamedProfile"
    assert UserProfile.get_cached_object(
        invalidate=True, user=member.user, account=tenant_a.account
    ).name == "renamedProfile"


@pytest.mark.django_db
def test_get_cached_object_by_account_is_its_first_active_admin(
    tenant_a, tenant_b, django_assert_num_queries
):
    users_before = User.objects.count()
    assert UserProfile.get_cached_object(account=tenant_a.account) == tenant_a.admin
    assert UserProfile.get_cached_object(account=tenant_b.account) == tenant_b.admin
    with django_assert_num_queries(0):  # through the cache, like the other lookups
        assert UserProfile.get_cached_object(account=tenant_a.account).pk == tenant_a.admin.pk
    # A later admin does not displace the first; the name narrows to the account.
    second, _ = add_member(tenant_a.account, "alpha-admin-2", email="a2@alpha.test", admin=True)
    assert UserProfile.get_cached_object(account=tenant_a.account) == tenant_a.admin
    UserProfile.objects.filter(pk=second.pk).update(name="second")
    assert UserProfile.get_cached_object(name="second", account=tenant_b.account) is None
    assert UserProfile.get_cached_object(name="second", account=tenant_a.account) == second
    # Membership changes invalidate it: demoted -> the next admin; deactivated user -> next.
    first = UserProfile.objects.get(pk=tenant_a.admin.pk)
    first.role = UserProfile.ROLE_MEMBER
    first.save()
    assert UserProfile.get_cached_object(account=tenant_a.account) == second
    second.user.is_active = False
    second.user.save()
    assert UserProfile.get_cached_object(account=tenant_a.account) is None  # never a member
    first.role = UserProfile.ROLE_ADMIN
    first.save()
    assert UserProfile.get_cached_object(account=tenant_a.account) == first
    first.delete()
    assert UserProfile.get_cached_object(account=tenant_a.account) is None
    # An account without members: None, and nobody is created.
    empty = Account.objects.create(company_name="Empty")
    assert UserProfile.get_cached_object(account=empty) is None
    assert User.objects.count() == users_before + 1  # only alpha-admin-2 above
    assert not UserProfile.objects.filter(account=empty).exists()


@pytest.mark.django_db
def test_get_cached_objects(tenant_a, tenant_b):
    user = tenant_a.member.user
    second = UserProfile.objects.create(user=user, account=tenant_b.account)
    assert list(UserProfile.get_cached_objects(user=user)) == [tenant_a.member, second]
    assert list(UserProfile.get_cached_objects(False, user)) == [tenant_a.member, second]
    assert set(UserProfile.get_cached_objects()) == set(UserProfile.objects.all())
    assert list(UserProfile.get_cached_objects(user=User.objects.create_user("loner"))) == []
    UserProfile.objects.filter(pk=second.pk).update(is_active=False)  # no signal
    assert list(UserProfile.get_cached_objects(user=user)) == [tenant_a.member, second]
    assert list(UserProfile.get_cached_objects(invalidate=True, user=user)) == [tenant_a.member]
