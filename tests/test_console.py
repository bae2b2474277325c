"""The account admin console and the tenant login, as an account admin of one tenant."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from accounts.models import Account, AccountContact, Invitation, UserProfile
from tests.conftest import PASSWORD, host_client
from workspaces.models import Workspace

User = get_user_model()


@pytest.fixture
def admin_client(tenant_a):
    return host_client(tenant_a.host, tenant_a.admin.user)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- access ----------------------------------------------------------------------------------

CONSOLE_PAGES = ["/console/", "/console/account/", "/console/members/", "/console/contacts/",
                 "/console/workspaces/", "/console/api-keys/", "/console/security/",
                 "/console/invitations/", "/console/domains/", "/console/audit/",
                 "/console/exports/", "/console/close/"]


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_console_pages_for_admin_member_and_anonymous(tenant_a, admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 200
    assert tenant_a.account.company_name in response.content.decode()
    member = host_client(tenant_a.host, tenant_a.member.user)
    assert member.get(path).status_code == 403
    assert member.post(path, {"email": "x@y.test", "name": "x"}).status_code == 403
    response = host_client(tenant_a.host).get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_member_cannot_act_on_members(tenant_a):
    member = host_client(tenant_a.host, tenant_a.member.user)
    admin = tenant_a.admin
    assert member.post(f"/console/members/{admin.pk}/role/", {"role": "member"}).status_code == 403
    assert member.post(f"/console/members/{admin.pk}/remove/").status_code == 403
    assert UserProfile.objects.get(pk=admin.pk).role == "admin"


# --- members -----------------------------------------------------------------------------------

def test_add_new_member_sends_an_invitation(tenant_a, admin_client):
    response = admin_client.post("/console/members/", {
        "email": "New.Person@Example.com", "role": "admin"}, follow=True)
    assert response.status_code == 200
    assert _messages(response) == ["Invitation sent to new.person@example.com. They join once "
                                   "they accept it with their own password."]
    invitation = Invitation.objects.get(account=tenant_a.account)
    assert (invitation.email, invitation.role) == ("new.person@example.com", "admin")
    assert not User.objects.filter(username="new.person@example.com").exists()  # on acceptance


def test_add_member_rejects_duplicates_and_bad_input(tenant_a, admin_client):
    admin_client.post("/console/members/", {"email": "dup@example.com", "role": "member"})
    count = Invitation.objects.count()
    for data in [
        {"email": "DUP@example.com", "role": "member"},
        {"email": "not-an-email", "role": "member"},
        {"email": "x@example.com", "role": "superboss"},
    ]:
        response = admin_client.post("/console/members/", data)
        assert response.status_code == 200, data
        assert response.context["form"].errors, data
    assert Invitation.objects.count() == count


def test_change_role(tenant_a, admin_client):
    member = tenant_a.member
    response = admin_client.post(f"/console/members/{member.pk}/role/", {"role": "admin"})
    assert response.status_code == 302
    assert UserProfile.objects.get(pk=member.pk).role == "admin"
    assert not User.objects.get(pk=member.user_id).is_staff  # operators' flag, untouched
    admin_client.post(f"/console/members/{member.pk}/role/", {"role": "member"})
    assert UserProfile.objects.get(pk=member.pk).role == "member"
    admin_client.post(f"/console/members/{member.pk}/role/", {"role": "owner"})
    assert UserProfile.objects.get(pk=member.pk).role == "member"


def test_deactivate_and_reactivate(tenant_a, admin_client):
    member = tenant_a.member
    member_client = host_client(tenant_a.host, member.user)
    assert member_client.get("/").wsgi_request.user_profile is not None
    admin_client.post(f"/console/members/{member.pk}/active/", {"active": "0"})
    assert not UserProfile.objects.get(pk=member.pk).is_active
    assert member_client.get("/").wsgi_request.user_profile is None
    login = host_client(tenant_a.host).post("/login/", {"login": member.user.username,
                                                        "password": PASSWORD})
    assert login.status_code == 200  # refused
    admin_client.post(f"/console/members/{member.pk}/active/", {"active": "1"})
    assert UserProfile.objects.get(pk=member.pk).is_active
    assert member_client.get("/").wsgi_request.user_profile is not None


def test_remove_member(tenant_a, admin_client):
    member = tenant_a.member
    response = admin_client.post(f"/console/members/{member.pk}/remove/", follow=True)
    assert f"{member.user.username} removed from the account." in _messages(response)
    assert not UserProfile.objects.filter(pk=member.pk).exists()
    assert User.objects.filter(pk=member.user_id).exists()  # the user remains
    assert f'data-member="{member.user.username}"' not in response.content.decode()
    assert admin_client.post(f"/console/members/{member.pk}/remove/").status_code == 404


def test_admin_cannot_act_on_self(tenant_a, admin_client):
    me = tenant_a.admin
    for url, data in [(f"/console/members/{me.pk}/role/", {"role": "member"}),
                      (f"/console/members/{me.pk}/active/", {"active": "0"}),
                      (f"/console/members/{me.pk}/remove/", {})]:
        response = admin_client.post(url, data, follow=True)
        assert "You cannot change your own membership here." in _messages(response)
    me = UserProfile.objects.get(pk=me.pk)
    assert me.role == "admin" and me.is_active


def test_member_actions_need_post(tenant_a, admin_client):
    member = tenant_a.member
    for action in ("role", "active"):
        assert admin_client.get(f"/console/members/{member.pk}/{action}/").status_code == 405
    # Removing asks first: its GET is the confirmation page, which changes nothing.
    page = admin_client.get(f"/console/members/{member.pk}/remove/")
    assert page.status_code == 200 and b"from the account?" in page.content
    assert UserProfile.objects.filter(pk=member.pk, is_active=True).exists()


# --- contacts ----------------------------------------------------------------------------------

def test_contacts_add_duplicate_and_primary(tenant_a, admin_client):
    response = admin_client.post("/console/contacts/", {"email": "Billing@Alpha.test",
                                                        "first_name": "Bill"}, follow=True)
    assert "Contact added." in _messages(response)
    billing = AccountContact.objects.get(account=tenant_a.account, email="billing@alpha.test")
    assert not billing.is_primary
    response = admin_client.post("/console/contacts/", {"email": "BILLING@alpha.test"})
    assert response.status_code == 200
    assert "already a contact" in str(response.context["form"].errors)
    assert AccountContact.objects.filter(account=tenant_a.account,
                                         email__iexact="billing@alpha.test").count() == 1
    old_primary = AccountContact.objects.filter(account=tenant_a.account, is_primary=True).first()
    response = admin_client.post(f"/console/contacts/{billing.pk}/primary/", follow=True)
    assert "billing@alpha.test is now the primary contact." in _messages(response)
    primaries = AccountContact.objects.filter(account=tenant_a.account, is_primary=True)
    assert list(primaries) == [billing]
    if old_primary is not None:
        assert not AccountContact.objects.get(pk=old_primary.pk).is_primary
    admin_client.post(f"/console/contacts/{billing.pk}/delete/")
    assert not AccountContact.objects.filter(pk=billing.pk).exists()


def test_same_contact_email_allowed_in_another_account(tenant_a, tenant_b, admin_client):
    AccountContact.objects.create(account=tenant_b.account, email="shared@contact.test")
    response = admin_client.post("/console/contacts/", {"email": "shared@contact.test"})
    assert response.status_code == 302
    assert AccountContact.objects.filter(email="shared@contact.test").count() == 2


# --- workspaces -------------------------------------------------------------------------------

def test_create_workspace(tenant_a, admin_client):
    response = admin_client.post("/console/workspaces/", {"name": "Design", "is_public": "on"},
                                 follow=True)
    assert "Workspace design created." in _messages(response)
    workspace = Workspace.objects.get(account=tenant_a.account, name="design")
    assert workspace.user_profile == tenant_a.admin and workspace.is_public
    assert host_client(tenant_a.workspace_host("design")).get("/").status_code == 200


@pytest.mark.parametrize("name", ["www", "api", "admin", "alpha", "static", "console", "-bad",
                                  "bad-", "has space", "under_score", "a" * 64, "xn--abc",
                                  "1234-5678-9012", "dots.in.name", "", "émoji"])
def test_invalid_or_reserved_workspace_names_are_form_errors(tenant_a, admin_client, name):
    response = admin_client.post("/console/workspaces/", {"name": name})
    assert response.status_code == 200
    assert response.context["form"].errors.get("name")
    assert not Workspace.objects.filter(account=tenant_a.account).exists()


def test_duplicate_workspace_name_is_a_form_error(tenant_a, tenant_b, admin_client):
    Workspace.objects.create(user_profile=tenant_b.admin, name="shared")
    assert admin_client.post("/console/workspaces/", {"name": "shared"}).status_code == 302
    response = admin_client.post("/console/workspaces/", {"name": "SHARED"})
    assert response.status_code == 200
    assert "already has a workspace" in str(response.context["form"].errors["name"])
    assert Workspace.objects.filter(account=tenant_a.account, name="shared").count() == 1


def test_rename_workspace_moves_its_host(tenant_a, admin_client):
    workspace = Workspace.objects.create(user_profile=tenant_a.admin, name="old", is_public=True)
    anon = host_client(tenant_a.workspace_host("old"))
    assert anon.get("/").status_code == 200  # warm the cache
    page = admin_client.get(f"/console/workspaces/{workspace.pk}/")
    assert page.status_code == 200
    response = admin_client.post(f"/console/workspaces/{workspace.pk}/",
                                 {"name": "new", "is_public": "on"})
    assert response.status_code == 302
    assert anon.get("/").status_code == 404
    assert host_client(tenant_a.workspace_host("new")).get("/").status_code == 200
    # Renaming to a reserved or taken name is refused.
    Workspace.objects.create(user_profile=tenant_a.admin, name="taken")
    for bad in ("www", "taken"):
        response = admin_client.post(f"/console/workspaces/{workspace.pk}/", {"name": bad})
        assert response.status_code == 200 and response.context["form"].errors["name"]
        assert "<h1>Workspace new</h1>" in response.content.decode()
    assert Workspace.objects.get(pk=workspace.pk).name == "new"


def test_delete_workspace(tenant_a, admin_client):
    workspace = Workspace.objects.create(user_profile=tenant_a.admin, name="gone", is_public=True)
    assert host_client(tenant_a.workspace_host("gone")).get("/").status_code == 200
    assert admin_client.get(f"/console/workspaces/{workspace.pk}/delete/").status_code == 405
    response = admin_client.post(f"/console/workspaces/{workspace.pk}/delete/")
    assert response.status_code == 302
    assert not Workspace.objects.filter(pk=workspace.pk).exists()
    assert host_client(tenant_a.workspace_host("gone")).get("/").status_code == 404


def test_superuser_creates_workspace_on_behalf_of_the_account(platform, tenant_a):
    client = host_client(tenant_a.host, platform.admin.user)
    assert client.post("/console/workspaces/", {"name": "ops"}).status_code == 302
    workspace = Workspace.objects.get(account=tenant_a.account, name="ops")
    assert workspace.user_profile.account == tenant_a.account


# --- account details -------------------------------------------------------------------------

def test_edit_account_details(tenant_a, admin_client):
    number = tenant_a.account.account_number
    response = admin_client.post("/console/account/", {
        "company_name": "Alpha Renamed", "phone_number": "+1 415 555 0100", "address1": "1 Main St",
        "city": "Springfield", "country": "US", "language": "en", "timezone": "UTC",
        "currency": "USD", "account_number": "0000-0000-0000", "is_default_account": "on",
    }, follow=True)
    assert response.status_code == 200, response.context["form"].errors
    assert "Account details saved." in _messages(response)
    account = Account.objects.get(pk=tenant_a.account.pk)
    assert account.company_name == "Alpha Renamed" and account.city == "Springfield"
    assert account.account_number == number and not account.is_default_account
    assert "Alpha Renamed" in host_client(tenant_a.host).get("/").content.decode()


def test_account_details_rejects_empty_company_name(tenant_a, admin_client):
    response = admin_client.post("/console/account/", {"company_name": ""})
    assert response.status_code == 200 and response.context["form"].errors
    assert Account.objects.get(pk=tenant_a.account.pk).company_name == tenant_a.account.company_name


# --- CSRF --------------------------------------------------------------------------------------

def test_csrf_enforced_on_every_form(tenant_a):
    workspace = Workspace.objects.create(user_profile=tenant_a.admin, name="csrf")
    contact = AccountContact.objects.create(account=tenant_a.account, email="c@alpha.test")
    member = tenant_a.member
    client = Client(HTTP_HOST=tenant_a.host, enforce_csrf_checks=True)
    client.force_login(tenant_a.admin.user)
    posts = [
        ("/console/account/", {"company_name": "Hacked"}),
        ("/console/members/", {"email": "csrf@example.com", "role": "admin"}),
        (f"/console/members/{member.pk}/role/", {"role": "admin"}),
        (f"/console/members/{member.pk}/active/", {"active": "0"}),
        (f"/console/members/{member.pk}/remove/", {}),
        ("/console/contacts/", {"email": "csrf@example.com"}),
        (f"/console/contacts/{contact.pk}/primary/", {}),
        (f"/console/contacts/{contact.pk}/delete/", {}),
        ("/console/workspaces/", {"name": "csrf2"}),
        (f"/console/workspaces/{workspace.pk}/", {"name": "csrf3"}),
        (f"/console/workspaces/{workspace.pk}/delete/", {}),
        ("/console/api-keys/", {"name": "k"}),
        ("/logout/", {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    login = Client(HTTP_HOST=tenant_a.host, enforce_csrf_checks=True)
    assert login.post("/login/", {"login": member.user.username,
                                  "password": PASSWORD}).status_code == 403
    assert Account.objects.get(pk=tenant_a.account.pk).company_name == tenant_a.account.company_name
    assert UserProfile.objects.get(pk=member.pk).is_active
    assert UserProfile.objects.get(pk=member.pk).role == "member"
    assert AccountContact.objects.filter(pk=contact.pk, is_primary=False).exists()
    assert Workspace.objects.filter(pk=workspace.pk, name="csrf").exists()
    assert not User.objects.filter(username="csrf@example.com").exists()
    # With the token from the page the same form works.
    page = client.get("/console/contacts/").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = client.post("/console/contacts/", {"email": "ok@example.com",
                                                  "csrfmiddlewaretoken": token})
    assert response.status_code == 302


# --- login -------------------------------------------------------------------------------------

def test_login_admits_members_and_refuses_strangers(tenant_a, tenant_b):
    client = host_client(tenant_a.host)
    page = client.get("/login/")
    assert page.status_code == 200 and tenant_a.account.company_name in page.content.decode()
    response = client.post("/login/", {"login": tenant_b.admin.user.username,
                                       "password": PASSWORD})
    assert response.status_code == 200  # the same answer as a wrong password
    assert "not correct" in response.content.decode()
    assert not client.get("/console/").wsgi_request.user.is_authenticated
    response = client.post("/login/?next=/console/", {"login": tenant_a.admin.user.username,
                                                      "password": PASSWORD, "next": "/console/"})
    assert response.status_code == 302 and response["Location"] == "/console/"
    assert client.get("/console/").status_code == 200


def test_login_refuses_wrong_password_and_foreign_next(tenant_a):
    client = host_client(tenant_a.host)
    assert client.post("/login/", {"login": tenant_a.member.user.username,
                                   "password": "wrong"}).status_code == 200
    response = client.post("/login/", {"login": tenant_a.member.user.username,
                                        "password": PASSWORD, "next": "https://evil.example/"})
    assert response.status_code == 302 and "evil" not in response["Location"]


@override_settings(LOGIN_RATE_LIMIT=3)
def test_login_is_rate_limited_per_account_and_ip(tenant_a, tenant_b):
    client = host_client(tenant_a.host)
    bad = {"login": tenant_a.member.user.username, "password": "wrong"}
    for _ in range(3):
        assert client.post("/login/", bad).status_code == 200
    response = client.post("/login/", bad)
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    # Even the right password is refused now, on this account from this address ...
    good = {"login": tenant_a.member.user.username, "password": PASSWORD}
    assert client.post("/login/", good).status_code == 429
    assert not client.get("/").wsgi_request.user.is_authenticated
    # ... but another address, or another account, is not affected.
    other_ip = host_client(tenant_a.host)
    assert other_ip.post("/login/", good, REMOTE_ADDR="10.0.0.9").status_code == 302
    other_account = host_client(tenant_b.host)
    assert other_account.post("/login/", {"login": tenant_b.member.user.username,
                                          "password": PASSWORD}).status_code == 302


def test_logout(tenant_a, admin_client):
    assert admin_client.post("/logout/").status_code in (200, 302)
    assert admin_client.get("/console/").status_code == 302


def test_removing_a_member_keeps_the_accounts_workspaces(tenant_a, admin_client):
    """A member's workspaces belong to the account: removing the member hands them over."""
    member = tenant_a.member
    space = Workspace.objects.create(user_profile=member, name="members-space", is_public=True)
    assert host_client(tenant_a.workspace_host("members-space")).get("/").status_code == 200
    response = admin_client.post(f"/console/members/{member.pk}/remove/", follow=True)
    assert _messages(response) == [f"{member.user.username} removed from the account. "
                                   f"1 of their resources now belong to {tenant_a.admin.user.username}."]
    assert not UserProfile.objects.filter(pk=member.pk).exists()
    space = Workspace.objects.get(pk=space.pk)
    assert space.user_profile_id == tenant_a.admin.pk and space.account_id == tenant_a.account.pk
    assert host_client(tenant_a.workspace_host("members-space")).get("/").status_code == 200


def test_add_existing_member_by_verified_address_is_refused(tenant_a, tenant_b, admin_client):
    """A member is found by their verified address however it is spelt."""
    EmailAddress.objects.create(user=tenant_a.member.user, email="member@alpha.test", verified=True)
    response = admin_client.post("/console/members/", {"email": "MEMBER@alpha.test", "role": "member"})
    assert response.status_code == 200
    assert "already a member" in str(response.context["form"].errors["email"])


def test_superuser_removing_the_only_admin_keeps_their_resources(platform, tenant_a):
    admin = tenant_a.admin
    space = Workspace.objects.create(user_profile=admin, name="admins-space")
    root = host_client(tenant_a.host, platform.admin.user)
    response = root.post(f"/console/members/{admin.pk}/remove/", follow=True)
    assert "no other admin can take them over" in " ".join(_messages(response))
    assert UserProfile.objects.filter(pk=admin.pk).exists()
    second, _ = UserProfile.objects.get_or_create(
        user=User.objects.create_user("second-admin"), account=tenant_a.account, role="admin")
    root.post(f"/console/members/{admin.pk}/remove/")
    assert not UserProfile.objects.filter(pk=admin.pk).exists()
    assert Workspace.objects.get(pk=space.pk).user_profile_id == second.pk


def test_duplicates_that_slip_past_validation_are_form_errors_not_500(tenant_a, admin_client,
                                                                      monkeypatch):
    """Two admins submitting at once both pass form validation; the database decides."""
    from console.forms import ContactForm
    from workspaces.forms import WorkspaceForm

    AccountContact.objects.create(account=tenant_a.account, email="race@alpha.test")
    Workspace.objects.create(user_profile=tenant_a.admin, name="race")
    # Simulate the race: the other request's row is invisible to this one's validation.
    monkeypatch.setattr(ContactForm, "clean_email", lambda self: self.cleaned_data["email"])
    monkeypatch.setattr(WorkspaceForm, "clean_name", lambda self: self.cleaned_data["name"])
    monkeypatch.setattr(AccountContact, "validate_constraints", lambda self, exclude=None: None)
    monkeypatch.setattr(Workspace, "validate_constraints", lambda self, exclude=None: None)
    monkeypatch.setattr(Workspace, "validate_unique", lambda self, exclude=None: None)
    admin_client.raise_request_exception = False
    response = admin_client.post("/console/contacts/", {"email": "race@alpha.test"})
    assert response.status_code == 200
    assert "already a contact" in str(response.context["form"].errors)
    response = admin_client.post("/console/workspaces/", {"name": "race"})
    assert response.status_code == 200
    assert "already has a workspace" in str(response.context["form"].errors)
    other = Workspace.objects.create(user_profile=tenant_a.admin, name="other")
    response = admin_client.post(f"/console/workspaces/{other.pk}/", {"name": "race"})
    assert response.status_code == 200
    assert "already has a workspace" in str(response.context["form"].errors)
    assert AccountContact.objects.filter(email="race@alpha.test").count() == 1
    assert Workspace.objects.filter(account=tenant_a.account, name="race").count() == 1
