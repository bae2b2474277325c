"""The Django admin: account staff see and change only their own account's rows."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Account, AccountContact, UserProfile
from tests.conftest import PASSWORD, host_client
from workspaces.models import Workspace

User = get_user_model()


@pytest.fixture
def rows(tenant_a, tenant_b):
    AccountContact.objects.create(account=tenant_a.account, email="alpha-contact@a.test")
    b_contact = AccountContact.objects.create(account=tenant_b.account, email="bravo-contact@b.test")
    a_ws = Workspace.objects.create(user_profile=tenant_a.admin, name="alpha-space")
    b_ws = Workspace.objects.create(user_profile=tenant_b.admin, name="bravo-space")
    return {"b_contact": b_contact, "a_ws": a_ws, "b_ws": b_ws}


CHANGELISTS = {
    "/admin/accounts/account/": ("Alpha Corp", "Bravo Corp"),
    "/admin/accounts/userprofile/": ("alpha-member", "bravo-member"),
    "/admin/accounts/accountcontact/": ("alpha-contact@a.test", "bravo-contact@b.test"),
    "/admin/workspaces/workspace/": ("alpha-space", "bravo-space"),
}


def test_account_admin_signs_in_to_the_admin_without_is_staff(tenant_a):
    # The role admits them; the global is_staff flag (operators') is never written for it.
    assert not User.objects.get(pk=tenant_a.admin.user_id).is_staff
    assert not User.objects.get(pk=tenant_a.member.user_id).is_staff
    client = host_client(tenant_a.host)
    response = client.post("/admin/login/?next=/admin/", {
        "username": tenant_a.admin.user.username, "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    index = client.get("/admin/")
    assert index.status_code == 200
    body = index.content.decode()
    assert "/admin/accounts/userprofile/" in body and "/admin/workspaces/workspace/" in body
    assert "/admin/auth/user/" not in body  # no global user table for account staff


def test_member_cannot_use_the_admin(tenant_a):
    client = host_client(tenant_a.host, tenant_a.member.user)
    response = client.get("/admin/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.parametrize(("path", "names"), CHANGELISTS.items())
def test_changelists_show_only_own_rows(tenant_a, tenant_b, rows, path, names):
    own, other = names
    client = host_client(tenant_a.host, tenant_a.admin.user)
    response = client.get(path)
    assert response.status_code == 200
    body = response.content.decode()
    assert own in body and other not in body
    # Searching for the other tenant finds nothing.
    response = client.get(path, {"q": other})
    assert response.context["cl"].result_count == 0
    assert list(response.context["cl"].result_list) == []


@pytest.mark.parametrize(("path", "names"), CHANGELISTS.items())
def test_superuser_sees_every_account(platform, tenant_a, tenant_b, rows, path, names):
    client = host_client("localhost", platform.admin.user)
    body = client.get(path).content.decode()
    assert all(name in body for name in names)


def test_admin_of_a_on_b_host_is_a_stranger(tenant_a, tenant_b, rows):
    client = host_client(tenant_b.host, tenant_a.admin.user)
    response = client.get("/admin/accounts/userprofile/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_other_tenants_objects_are_404(tenant_a, tenant_b, rows):
    client = host_client(tenant_a.host, tenant_a.admin.user)
    b = tenant_b
    urls = [
        f"/admin/accounts/account/{b.account.pk}/change/",
        f"/admin/accounts/userprofile/{b.member.pk}/change/",
        f"/admin/accounts/userprofile/{b.member.pk}/delete/",
        f"/admin/accounts/accountcontact/{rows['b_contact'].pk}/change/",
        f"/admin/accounts/accountcontact/{rows['b_contact'].pk}/delete/",
        f"/admin/workspaces/workspace/{rows['b_ws'].pk}/change/",
        f"/admin/workspaces/workspace/{rows['b_ws'].pk}/delete/",
        f"/admin/accounts/userprofile/{b.member.pk}/history/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (403, 404), url
        assert "Bravo" not in response.content.decode() and "bravo" not in response.content.decode()
        response = client.post(url, {"post": "yes", "company_name": "Pwned", "role": "admin"})
        assert response.status_code in (403, 404), url
    assert Account.objects.get(pk=b.account.pk).company_name == "Bravo Corp"
    assert UserProfile.objects.filter(pk=b.member.pk, role="member").exists()
    assert Workspace.objects.filter(pk=rows["b_ws"].pk).exists()
    assert AccountContact.objects.filter(pk=rows["b_contact"].pk).exists()


def test_staff_can_change_own_rows_but_not_escape_their_account(tenant_a, tenant_b, rows):
    client = host_client(tenant_a.host, tenant_a.admin.user)
    account = tenant_a.account
    page = client.get(f"/admin/accounts/account/{account.pk}/change/")
    assert page.status_code == 200
    response = client.post(f"/admin/accounts/account/{account.pk}/change/", {
        "company_name": "Alpha Admin Edit", "is_active": "", "is_default_account": "on",
        "language": account.language, "timezone": account.timezone, "currency": account.currency,
        "country": account.country,
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    account.refresh_from_db()
    assert account.company_name == "Alpha Admin Edit"
    assert account.is_active and not account.is_default_account  # read-only for staff
    # A workspace moved to another tenant's owner is refused: B's profiles are not choices.
    ws = rows["a_ws"]
    page = client.get(f"/admin/workspaces/workspace/{ws.pk}/change/")
    assert page.status_code == 200
    assert f'value="{tenant_b.admin.pk}"' not in page.content.decode()
    response = client.post(f"/admin/workspaces/workspace/{ws.pk}/change/", {
        "name": "alpha-space", "user_profile": tenant_b.admin.pk, "description": ""})
    assert response.status_code == 200  # form error
    assert Workspace.objects.get(pk=ws.pk).account == tenant_a.account
    assert client.get("/admin/accounts/account/add/").status_code == 403


def test_staff_adds_contact_only_to_own_account(tenant_a, tenant_b):
    client = host_client(tenant_a.host, tenant_a.admin.user)
    page = client.get("/admin/accounts/accountcontact/add/")
    assert page.status_code == 200
    assert f'value="{tenant_b.account.pk}"' not in page.content.decode()
    response = client.post("/admin/accounts/accountcontact/add/", {
        "account": tenant_b.account.pk, "email": "sneaky@b.test"})
    assert response.status_code == 200
    assert not AccountContact.objects.filter(email="sneaky@b.test").exists()
    response = client.post("/admin/accounts/accountcontact/add/", {
        "account": tenant_a.account.pk, "email": "ok@a.test"})
    assert response.status_code == 302
    assert AccountContact.objects.get(email="ok@a.test").account == tenant_a.account


def test_admin_login_only_for_this_accounts_admins(tenant_a, tenant_b):
    def login(host, profile):
        client = host_client(host)
        response = client.post("/admin/login/?next=/admin/", {
            "username": profile.user.username, "password": PASSWORD, "next": "/admin/"})
        return response, client

    response, client = login(tenant_a.host, tenant_a.admin)
    assert response.status_code == 302 and client.get("/admin/").status_code == 200
    for host, profile in [(tenant_b.host, tenant_a.admin), (tenant_a.host, tenant_a.member)]:
        response, client = login(host, profile)
        assert response.status_code == 200, (host, profile)
        assert "_auth_user_id" not in client.session
    # A plain member here who administers another account is refused too.
    UserProfile.objects.create(user=tenant_b.admin.user, account=tenant_a.account)
    response, client = login(tenant_a.host, tenant_b.admin)
    assert response.status_code == 200 and "_auth_user_id" not in client.session


@pytest.mark.parametrize("limit", [3])
def test_admin_login_shares_the_login_rate_limit(tenant_a, settings, limit):
    settings.LOGIN_RATE_LIMIT = limit
    client = host_client(tenant_a.host)
    bad = {"username": tenant_a.admin.user.username, "password": "wrong", "next": "/admin/"}
    for _ in range(limit):
        assert client.post("/admin/login/", bad).status_code == 200
    good = dict(bad, password=PASSWORD)
    response = client.post("/admin/login/", good)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The tenant login page counts the same failures.
    assert client.post("/login/", {"login": good["username"], "password": PASSWORD}).status_code == 429
