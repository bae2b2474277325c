"""Model rules: what save() enforces and what the database itself enforces."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, transaction
from django.utils import timezone

from accounts.models import (
    Account,
    AccountContact,
    SmarterBaseQuerySetWithPermissions,
    UserProfile,
    generate_account_number,
)
from accounts.signals import user_profile_created
from workspaces.models import Workspace

User = get_user_model()
NUMBER_RE = re.compile(r"[0-9]{4}-[0-9]{4}-[0-9]{4}")


def make_user(username: str, email: str = "", **extra: object):
    return User.objects.create_user(username=username, email=email, **extra)


# --- Account ---------------------------------------------------------------------------
def test_generated_account_number_has_the_format():
    for _ in range(50):
        assert NUMBER_RE.fullmatch(generate_account_number())


@pytest.mark.django_db
def test_account_gets_a_number_on_first_save_and_keeps_it():
    account = Account.objects.create(company_name="Acme")
    assert NUMBER_RE.fullmatch(account.account_number)
    number = account.account_number
    account.company_name = "Acme 2"
    account.save()
    account.refresh_from_db()
    assert account.account_number == number


@pytest.mark.django_db
def test_account_number_is_immutable_through_save():
    account = Account.objects.create(company_name="Acme")
    number = account.account_number
    account.account_number = "1111-2222-3333"
    with pytest.raises(ValidationError, match="immutable"):
        account.save()
    assert Account.objects.get(pk=account.pk).account_number == number
    loaded = Account.objects.get(pk=account.pk)
    loaded.account_number = "1111-2222-3333"
    with pytest.raises(ValidationError, match="immutable"):
        loaded.save()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "number",
    ["1234-5678-901", "1234567890123", "1234-5678-90123", "abcd-efgh-ijkl",
     "1234-5678-9012\n", "\u0661\u0662\u0663\u0664-5678-9012", " 1234-5678-9012"],
)
def test_bad_account_numbers_are_refused_by_save(number):
    with pytest.raises(ValidationError):
        Account(company_name="X", account_number=number).save()
    assert not Account.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "number",
    ["1234-5678-901", "1234-5678-90123", "abcd-efgh-ijkl", "1234-5678-9012\n", "12345678-9012-"],
)
def test_database_check_constraint_rejects_bad_account_numbers(number):
    # The check constraint (IntegrityError); PostgreSQL refuses over-long values even
    # before it (DataError). Either way the database, not save(), says no.
    rejected = (IntegrityError, DataError)
    with pytest.raises(rejected), transaction.atomic():
        Account.objects.bulk_create([Account(company_name="X", account_number=number)])
    good = Account.objects.create(company_name="Y", account_number="1234-5678-9012")
    with pytest.raises(rejected), transaction.atomic():
        Account.objects.filter(pk=good.pk).update(account_number=number)
    assert Account.objects.get(pk=good.pk).account_number == "1234-5678-9012"


@pytest.mark.django_db
def test_account_numbers_are_unique_in_the_database():
    Account.objects.create(company_name="A", account_number="1234-5678-9012")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.bulk_create([Account(company_name="B", account_number="1234-5678-9012")])


@pytest.mark.django_db
def test_account_number_collision_draws_again(monkeypatch):
    Account.objects.create(company_name="A", account_number="1111-1111-1111")
    draws = iter(["1111-1111-1111", "1111-1111-1111", "2222-2222-2222"])
    monkeypatch.setattr("accounts.models.account.generate_account_number", lambda: next(draws))
    account = Account.objects.create(company_name="B")
    assert account.account_number == "2222-2222-2222"


@pytest.mark.django_db
def test_two_default_accounts_are_rejected_by_the_database():
    Account.objects.create(company_name="Platform", is_default_account=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.bulk_create(
            [Account(company_name="P2", account_number="1234-5678-9012", is_default_account=True)]
        )
    other = Account.objects.create(company_name="Other")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=other.pk).update(is_default_account=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.create(company_name="P3", is_default_account=True)
    assert Account.objects.filter(is_default_account=True).count() == 1
    # Many non-default accounts are fine: the index is partial.
    Account.objects.bulk_create(
        [Account(company_name=f"N{i}", account_number=f"000{i}-0000-0000") for i in range(3)]
    )


# --- AccountContact --------------------------------------------------------------------
@pytest.mark.django_db
def test_two_primary_contacts_are_rejected_by_the_database():
    account = Account.objects.create(company_name="Acme")
    other = Account.objects.create(company_name="Other")
    first = AccountContact.objects.create(account=account, email="a@x.io", is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountContact.objects.bulk_create(
            [AccountContact(account=account, email="b@x.io", is_primary=True)]
        )
    second = AccountContact.objects.create(account=account, email="c@x.io")
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountContact.objects.filter(pk=second.pk).update(is_primary=True)
    # another account may have its own primary
    AccountContact.objects.create(account=other, email="a@x.io", is_primary=True)
    assert list(account.contacts.filter(is_primary=True)) == [first]


@pytest.mark.django_db
def test_contact_email_is_unique_per_account_case_insensitively():
    account = Account.objects.create(company_name="Acme")
    AccountContact.objects.create(account=account, email="Ann@X.io")
    assert AccountContact.objects.get().email == "ann@x.io"
    with pytest.raises(IntegrityError), transaction.atomic():
        AccountContact.objects.bulk_create([AccountContact(account=account, email="ANN@x.io")])


# --- UserProfile -----------------------------------------------------------------------
@pytest.mark.django_db
def test_first_profile_adds_the_user_as_primary_contact():
    account = Account.objects.create(company_name="Acme")
    ann = make_user("ann", "Ann@Example.com", first_name="Ann", last_name="Lee")
    bob = make_user("bob", "bob@example.com")
    UserProfile.objects.create(user=ann, account=account)
    contact = AccountContact.objects.get(account=account)
    assert (contact.email, contact.first_name, contact.last_name, contact.is_primary) == (
        "ann@example.com", "Ann", "Lee", True
    )
    UserProfile.objects.create(user=bob, account=account)
    contacts = {c.email: c.is_primary for c in AccountContact.objects.filter(account=account)}
    assert contacts == {"ann@example.com": True, "bob@example.com": False}


@pytest.mark.django_db
def test_first_profile_becomes_primary_only_when_no_primary_exists():
    account = Account.objects.create(company_name="Acme")
    AccountContact.objects.create(account=account, email="boss@example.com", is_primary=True)
    UserProfile.objects.create(user=make_user("ann", "ann@example.com"), account=account)
    assert AccountContact.objects.get(account=account, is_primary=True).email == "boss@example.com"
    assert AccountContact.objects.filter(account=account).count() == 2


@pytest.mark.django_db
def test_profile_creation_survives_losing_the_primary_contact_race(monkeypatch):
    """Another first member became primary between our check and our claim: we stay plain."""
    account = Account.objects.create(company_name="Acme")
    AccountContact.objects.create(account=account, email="winner@example.com", is_primary=True)
    real_filter = AccountContact.objects.filter

    def stale_primary_check(*args, **kwargs):
        if kwargs.get("is_primary") is True:  # the vacancy check sees the pre-race state
            return real_filter(pk__in=[])
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(AccountContact.objects, "filter", stale_primary_check)
    profile = UserProfile.objects.create(user=make_user("ann", "ann@example.com"), account=account)
    monkeypatch.undo()
    assert UserProfile.objects.filter(pk=profile.pk).exists()
    primaries = AccountContact.objects.filter(account=account, is_primary=True)
    assert [c.email for c in primaries] == ["winner@example.com"]
    assert AccountContact.objects.get(account=account, email="ann@example.com").is_primary is False


@pytest.mark.django_db
def test_profile_of_user_without_email_adds_no_contact():
    account = Account.objects.create(company_name="Acme")
    profile = UserProfile.objects.create(user=make_user("ann"), account=account)
    assert not AccountContact.objects.filter(account=account).exists()
    assert profile.add_to_account_contacts(is_primary=True) is None


@pytest.mark.django_db
def test_add_to_account_contacts_moves_the_primary_and_reuses_the_contact():
    account = Account.objects.create(company_name="Acme")
    ann = UserProfile.objects.create(user=make_user("ann", "ann@example.com"), account=account)
    bob = UserProfile.objects.create(user=make_user("bob", "Bob@Example.com"), account=account)
    contact = bob.add_to_account_contacts(is_primary=True)
    assert contact is not None and contact.is_primary and contact.email == "bob@example.com"
    primaries = list(AccountContact.objects.filter(account=account, is_primary=True))
    assert [c.email for c in primaries] == ["bob@example.com"]
    assert AccountContact.objects.filter(account=account).count() == 2
    # non-primary call leaves the primary alone and creates no duplicate
    again = ann.add_to_account_contacts()
    assert again is not None and not again.is_primary
    assert AccountContact.objects.filter(account=account).count() == 2
    assert AccountContact.objects.get(account=account, is_primary=True).email == "bob@example.com"


@pytest.mark.django_db
def test_add_to_account_contacts_positional_form():
    account = Account.objects.create(company_name="Acme")
    AccountContact.objects.create(account=account, email="boss@example.com", is_primary=True)
    ann = UserProfile.objects.create(user=make_user("ann", "ann@example.com"), account=account)
    ann.add_to_account_contacts(True)
    assert AccountContact.objects.get(account=account, is_primary=True).email == "ann@example.com"


@pytest.mark.django_db
def test_profile_needs_user_and_account():
    account = Account.objects.create(company_name="Acme")
    with pytest.raises(ValidationError):
        UserProfile(account=account).save()
    with pytest.raises(ValidationError):
        UserProfile(user=make_user("ann")).save()
    assert not UserProfile.objects.exists()


@pytest.mark.django_db
def test_profile_user_and_account_are_immutable():
    a = Account.objects.create(company_name="A")
    b = Account.objects.create(company_name="B")
    ann, bob = make_user("ann"), make_user("bob")
    profile = UserProfile.objects.create(user=ann, account=a)
    profile.account = b
    with pytest.raises(ValidationError, match="immutable"):
        profile.save()
    loaded = UserProfile.objects.get(pk=profile.pk)
    loaded.user = bob
    with pytest.raises(ValidationError, match="immutable"):
        loaded.save()
    assert UserProfile.objects.filter(user=ann, account=a).count() == 1
    # other fields stay editable
    loaded = UserProfile.objects.get(pk=profile.pk)
    loaded.role = UserProfile.ROLE_ADMIN
    loaded.save()
    assert UserProfile.objects.get(pk=profile.pk).role == UserProfile.ROLE_ADMIN


@pytest.mark.django_db
def test_profile_loaded_with_deferred_fields_saves():
    account = Account.objects.create(company_name="A")
    profile = UserProfile.objects.create(user=make_user("ann"), account=account)
    partial = UserProfile.objects.only("role").get(pk=profile.pk)
    partial.role = UserProfile.ROLE_ADMIN
    partial.save(update_fields=["role"])
    assert UserProfile.objects.get(pk=profile.pk).role == UserProfile.ROLE_ADMIN
    partial = UserProfile.objects.defer("user").get(pk=profile.pk)
    partial.user = make_user("bob")
    with pytest.raises(ValidationError, match="immutable"):
        partial.save()


@pytest.mark.django_db
def test_profile_is_unique_per_user_and_account():
    a = Account.objects.create(company_name="A")
    b = Account.objects.create(company_name="B")
    ann = make_user("ann")
    UserProfile.objects.create(user=ann, account=a)
    UserProfile.objects.create(user=ann, account=b)  # another account is fine
    with pytest.raises(IntegrityError), transaction.atomic():
        UserProfile.objects.create(user=ann, account=a)
    now = timezone.now()
    with pytest.raises(IntegrityError), transaction.atomic():
        UserProfile.objects.bulk_create(
            [UserProfile(user=ann, account=a, created_at=now, updated_at=now)]
        )
    assert UserProfile.objects.filter(user=ann).count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    "version", ["1.0", "1", "01.0.0", "1.00.0", "1.0.0\n", "a.b.c", "1.0.0-beta", "v1.0.0", "", "1..0"]
)
def test_bad_versions_are_rejected(version):
    account = Account.objects.create(company_name="A")
    with pytest.raises(ValidationError):
        UserProfile.objects.create(user=make_user("ann"), account=account, version=version)
    assert not UserProfile.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["0.0.0", "1.0.0", "10.20.30", "2.0.11"])
def test_good_versions_are_accepted(version):
    account = Account.objects.create(company_name="A")
    profile = UserProfile.objects.create(user=make_user("ann"), account=account, version=version)
    assert UserProfile.objects.get(pk=profile.pk).version == version


@pytest.mark.django_db
def test_version_is_checked_on_update_too(platform):
    profile = platform.member
    profile.version = "2.0"
    with pytest.raises(ValidationError):
        profile.save()
    assert UserProfile.objects.get(pk=profile.pk).version == "1.0.0"
    workspace = Workspace.objects.create(user_profile=profile, name="team")
    workspace.version = "1.2"
    with pytest.raises(ValidationError):
        workspace.save()


@pytest.mark.django_db
def test_user_profile_created_signal_is_sent_once_on_create():
    received = []

    def receiver(sender, user_profile, **kwargs):
        received.append((sender, user_profile.pk))

    user_profile_created.connect(receiver)
    try:
        account = Account.objects.create(company_name="A")
        profile = UserProfile.objects.create(user=make_user("ann"), account=account)
        profile.description = "changed"
        profile.save()
    finally:
        user_profile_created.disconnect(receiver)
    assert received == [(UserProfile, profile.pk)]


@pytest.mark.django_db
def test_failed_profile_save_sends_no_signal_and_adds_no_contact():
    received = []
    user_profile_created.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t")
    try:
        account = Account.objects.create(company_name="A")
        ann = make_user("ann", "ann@example.com")
        UserProfile.objects.create(user=ann, account=account)
        with pytest.raises(IntegrityError), transaction.atomic():
            UserProfile.objects.create(user=ann, account=account)
    finally:
        user_profile_created.disconnect(dispatch_uid="t")
    assert len(received) == 1
    assert AccountContact.objects.filter(account=account).count() == 1


# --- owned rows ------------------------------------------------------------------------
@pytest.mark.django_db
def test_owned_row_takes_its_account_from_the_owner(tenant_a, tenant_b):
    ws = Workspace(user_profile=tenant_a.member, name="team")
    ws.account = tenant_b.account  # ignored: copied from the owner
    ws.save()
    assert Workspace.objects.get(pk=ws.pk).account_id == tenant_a.account.pk
    ws = Workspace.objects.get(pk=ws.pk)
    ws.user_profile_id = tenant_b.admin.pk
    ws.save()
    assert Workspace.objects.get(pk=ws.pk).account_id == tenant_b.account.pk


@pytest.mark.django_db
def test_owned_row_needs_an_owner():
    with pytest.raises(ValidationError):
        Workspace(name="team").save()


# --- the manager's chaining methods ----------------------------------------------------
@pytest.fixture
def three_workspaces(tenant_a, tenant_b):
    return [
        Workspace.objects.create(user_profile=tenant_a.admin, name="one"),
        Workspace.objects.create(user_profile=tenant_a.member, name="two"),
        Workspace.objects.create(user_profile=tenant_b.admin, name="three"),
    ]


def _names(qs) -> list[str]:
    return sorted(w.name for w in qs)


@pytest.mark.django_db
def test_manager_chaining_methods_return_the_permission_queryset(three_workspaces, tenant_a):
    from django.db.models import Count, F, Q

    one, two, three = three_workspaces
    m = Workspace.objects
    a_rows = m.filter(account=tenant_a.account)
    cases = {
        "all": (m.all(), ["one", "three", "two"]),
        "filter": (m.filter(name="one"), ["one"]),
        "filter-q": (m.filter(Q(name="one") | Q(name="two")), ["one", "two"]),
        "exclude": (m.exclude(name="one"), ["three", "two"]),
        "annotate": (m.annotate(n=Count("tags")).filter(n=0), ["one", "three", "two"]),
        "alias": (m.alias(owner=F("user_profile")).filter(owner=tenant_a.admin.pk), ["one"]),
        "order_by": (m.order_by("-name"), ["one", "three", "two"]),
        "distinct": (m.distinct(), ["one", "three", "two"]),
        # Workspace has Meta.ordering: compound queries must still work on SQLite.
        "union": (m.union(m.filter(name="three")), ["one", "three", "two"]),
        "union-chained": (m.filter(name="one").union(m.filter(name="three")), ["one", "three"]),
        "intersection": (m.intersection(m.filter(name__in=["two", "three"]), a_rows), ["two"]),
        "difference": (m.difference(a_rows), ["three"]),
        "select_related": (m.select_related("user_profile__user").filter(name="two"), ["two"]),
        "prefetch_related": (m.prefetch_related("tags").filter(name="two"), ["two"]),
        "none": (m.none(), []),
        "complex_filter": (m.complex_filter({"name": "three"}), ["three"]),
        "complex_filter-q": (m.complex_filter(Q(name="one")), ["one"]),
    }
    cases["get_queryset"] = (m.get_queryset(), ["one", "three", "two"])
    for label, (qs, expected) in cases.items():
        assert isinstance(qs, SmarterBaseQuerySetWithPermissions), label
        assert _names(qs) == expected, label
    assert [w.name for w in m.order_by("-name")] == ["two", "three", "one"]
    assert m.union(m.filter(name="one"), all=True).count() == 4
    assert _names(m.union(m.none())) == ["one", "three", "two"]
    assert list(m.none().union(m.filter(name="two"))) == [two]
    assert list(m.intersection(m.none())) == []
    with transaction.atomic():
        locked = m.select_for_update().filter(name="one")
        assert isinstance(locked, SmarterBaseQuerySetWithPermissions)
        assert _names(locked) == ["one"]
    locked_nowait = m.select_for_update(nowait=False, of=("self",))
    assert isinstance(locked_nowait, SmarterBaseQuerySetWithPermissions)
    assert m.none().with_read_permission_for(tenant_a.admin.user).count() == 0


@pytest.mark.django_db
def test_user_profile_manager_chains_too(tenant_a):
    qs = UserProfile.objects.filter(account=tenant_a.account).exclude(role="admin")
    assert isinstance(qs, SmarterBaseQuerySetWithPermissions)
    assert list(qs) == [tenant_a.member]
    assert isinstance(UserProfile.objects.select_related("user").none(), SmarterBaseQuerySetWithPermissions)
    readable = UserProfile.objects.with_read_permission_for(tenant_a.member.user)
    assert isinstance(readable, SmarterBaseQuerySetWithPermissions)
    assert tenant_a.admin in readable and tenant_a.member in readable
