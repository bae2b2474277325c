"""Issue 22 item 1: nobody becomes a member without consent.

Every way of adding a member (console, POST /api/v1/users/, users/batch/, the Django admin)
invites the address; only the person who accepts with their own credentials (or, for a new
address, chooses a password through the link that proves it) joins. Addresses are matched
against verified allauth addresses only, never usernames. A purge deletes only users the
account itself created.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.utils import timezone

from accounts.membership import user_for_email
from accounts.models import Account, Invitation, UserProfile
from tests.conftest import PASSWORD, host_client
from tests.support.api_support import api_for
from tests.support.frontdoor_support import host_and_path, last_mail, link_with

pytestmark = pytest.mark.django_db
User = get_user_model()
NEW_PASSWORD = "a-long-unique-password-42"


def _squatter(email: str, username: str | None = None):  # type: ignore[no-untyped-def]
    """Someone who signed up with an address they do not own (never verified it)."""
    user = User.objects.create_user(username or email, email, "squatter-password-99")
    EmailAddress.objects.create(user=user, email=email, verified=False, primary=True)
    return user


def _verified(username: str, email: str):  # type: ignore[no-untyped-def]
    user = User.objects.create_user(username, email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def _accept_path(tenant, email: str) -> str:  # type: ignore[no-untyped-def]
    host, path = host_and_path(link_with(last_mail(email), "/invitations/"))
    assert host == tenant.host
    return path


def test_emails_match_verified_addresses_only_never_usernames(tenant_b):
    _squatter("victim@corp.test")
    _squatter("ceo@alpha.test", username="ceo@alpha.test")
    assert user_for_email("victim@corp.test") is None
    assert user_for_email("ceo@alpha.test") is None
    owner = _verified("owner", "owner@corp.test")
    assert user_for_email("Owner@Corp.test") == owner


def test_api_add_of_an_unverified_squatters_address_attaches_nobody(tenant_a):
    squatter = _squatter("victim@corp.test")
    response = api_for(tenant_a.admin).post("users/", {"email": "victim@corp.test", "role": "admin"})
    assert response.status_code == 202, response.content
    assert not UserProfile.objects.filter(user=squatter).exists()
    # The real owner of the address accepts through the link: a new user, not the squatter.
    path = _accept_path(tenant_a, "victim@corp.test")
    invitee = host_client(tenant_a.host)
    done = invitee.post(path, {"first_name": "Vic", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    profile = UserProfile.objects.get(account=tenant_a.account, role="admin",
                                      user__email="victim@corp.test")
    assert profile.user != squatter and profile.created_user
    assert EmailAddress.objects.get(user=profile.user).verified
    # The squatter's password opens nothing on the tenant.
    login = host_client(tenant_a.host).post("/login/", {"login": "victim@corp.test",
                                                        "password": "squatter-password-99"})
    assert login.wsgi_request.user.pk != squatter.pk or not login.wsgi_request.user.is_authenticated
    assert not UserProfile.objects.filter(user=squatter).exists()


def test_api_answers_the_same_for_known_and_unknown_addresses(tenant_a, tenant_b, platform):
    api = api_for(tenant_a.admin)
    EmailAddress.objects.create(user=tenant_b.member.user, email="member@bravo.test", verified=True)
    known = api.post("users/", {"email": "member@bravo.test"})
    unknown = api.post("users/", {"email": "nobody@nowhere.test"})
    superuser = api.post("users/", {"email": "root@example.com"})
    assert known.status_code == unknown.status_code == superuser.status_code == 202
    bodies = [r.json() for r in (known, unknown, superuser)]
    assert {tuple(sorted(b)) for b in bodies} == {tuple(sorted(bodies[0]))}
    assert all(b["status"] == "pending" for b in bodies)
    # Nobody was attached: not the other tenant's member, not the platform's superuser.
    assert not UserProfile.objects.filter(account=tenant_a.account,
                                          user__in=[tenant_b.member.user, platform.admin.user]).exists()
    assert Invitation.objects.filter(account=tenant_a.account).count() == 3


def test_a_known_person_joins_only_with_their_own_password(tenant_a, tenant_b):
    EmailAddress.objects.create(user=tenant_b.member.user, email="member@bravo.test", verified=True)
    assert api_for(tenant_a.admin).post("users/", {"email": "member@bravo.test"}).status_code == 202
    path = _accept_path(tenant_a, "member@bravo.test")
    wrong = host_client(tenant_a.host).post(path, {"password": "not-their-password"})
    assert wrong.status_code == 200
    assert not UserProfile.objects.filter(account=tenant_a.account, user=tenant_b.member.user).exists()
    right = host_client(tenant_a.host).post(path, {"password": PASSWORD})
    assert right.status_code == 302
    joined = UserProfile.objects.get(account=tenant_a.account, user=tenant_b.member.user)
    assert not joined.created_user  # the person existed before: a purge of A never deletes them


def test_batch_invites_everyone_and_attaches_nobody(tenant_a, tenant_b):
    EmailAddress.objects.create(user=tenant_b.admin.user, email="admin@bravo.test", verified=True)
    response = api_for(tenant_a.admin).post("users/batch/", [
        {"email": "admin@bravo.test"}, {"email": "fresh@alpha.test", "role": "admin"}])
    assert response.status_code == 202, response.content
    assert [row["email"] for row in response.json()] == ["admin@bravo.test", "fresh@alpha.test"]
    assert UserProfile.objects.filter(account=tenant_a.account).count() == 2  # the fixtures' only
    assert not User.objects.filter(username="fresh@alpha.test").exists()


def test_api_refuses_a_password_chosen_by_the_admin(tenant_a):
    response = api_for(tenant_a.admin).post("users/", {"email": "p@alpha.test",
                                                       "password": "a-long-and-unusual-passphrase-42"})
    assert response.status_code == 400 and "password" in response.json()["error"]["fields"]
    assert not Invitation.objects.filter(email="p@alpha.test").exists()


def test_console_add_member_invites_with_the_same_message_for_everyone(tenant_a, tenant_b):
    EmailAddress.objects.create(user=tenant_b.member.user, email="member@bravo.test", verified=True)
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    pages = []
    for email in ("member@bravo.test", "nobody@nowhere.test"):
        response = admin.post("/console/members/", {"email": email, "role": "member"}, follow=True)
        assert response.status_code == 200
        [message] = [str(m) for m in response.context["messages"]]
        pages.append(message.replace(email, "<address>"))
    assert pages[0] == pages[1] and "Invitation sent" in pages[0]
    assert not UserProfile.objects.filter(account=tenant_a.account, user=tenant_b.member.user).exists()
    assert not User.objects.filter(username="nobody@nowhere.test").exists()


def test_django_admin_cannot_attach_users(tenant_a, platform):
    for user in (tenant_a.admin.user, platform.admin.user):
        client = host_client(tenant_a.host, user)
        assert client.get("/admin/accounts/userprofile/add/").status_code == 403
        client.post("/admin/accounts/userprofile/add/", {
            "user": platform.admin.user.pk, "account": tenant_a.account.pk, "role": "admin",
            "is_active": "on"})
    assert not UserProfile.objects.filter(account=tenant_a.account, user=platform.admin.user).exists()


def _purge(tenant, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client = host_client(tenant.host, tenant.admin.user)
    response = client.post("/console/close/", {"confirm": tenant.account.account_number,
                                               "password": PASSWORD})
    assert response.status_code in (200, 302)
    assert not Account.objects.get(pk=tenant.account.pk).is_active
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=31))
    call_command("run_lifecycle")
    assert not Account.objects.filter(pk=tenant.account.pk).exists()


def test_purge_deletes_only_users_the_account_created(tenant_a, monkeypatch):
    staff = User.objects.create_user("operator", "op@example.com", PASSWORD, is_staff=True)
    existing = _verified("someone", "someone@elsewhere.test")
    UserProfile.objects.create(user=staff, account=tenant_a.account)  # attached by old code
    UserProfile.objects.create(user=existing, account=tenant_a.account)
    _purge(tenant_a, monkeypatch)
    assert User.objects.filter(pk__in=[staff.pk, existing.pk]).count() == 2
    assert not User.objects.filter(username__in=["alpha-admin", "alpha-member"]).exists()


def test_purge_removes_the_deleted_users_sessions_and_export_folder(tenant_a, tenant_b, monkeypatch,
                                                                   settings):
    member = host_client(tenant_a.host)
    assert member.post("/login/", {"login": "alpha-member", "password": PASSWORD}).status_code == 302
    other = host_client(tenant_b.host)
    assert other.post("/login/", {"login": "bravo-member", "password": PASSWORD}).status_code == 302
    user_id = str(tenant_a.member.user.pk)
    assert any(s.get_decoded().get("_auth_user_id") == user_id for s in Session.objects.all())
    folder = settings.MEDIA_ROOT / "exports" / tenant_a.account.account_number
    folder.mkdir(parents=True, exist_ok=True)
    _purge(tenant_a, monkeypatch)
    assert not any(s.get_decoded().get("_auth_user_id") == user_id for s in Session.objects.all())
    bravo_id = str(tenant_b.member.user.pk)
    assert any(s.get_decoded().get("_auth_user_id") == bravo_id for s in Session.objects.all())
    assert not folder.exists()


def test_purge_uses_the_schedulers_retention_not_the_workers(tenant_a, monkeypatch, settings):
    """run_lifecycle (retention 30 days) enqueues; a worker configured with 60 days must not
    answer the enqueued purge with silent success doing nothing."""
    from django.test import override_settings

    import lifecycle.management.commands.run_lifecycle as command

    real = command.purge_closed_account

    class WorkerWithOtherRetention:
        @staticmethod
        def enqueue(*args):  # type: ignore[no-untyped-def]
            with override_settings(ACCOUNT_CLOSURE_RETENTION_DAYS=60):
                return real.enqueue(*args)

    monkeypatch.setattr(command, "purge_closed_account", WorkerWithOtherRetention)
    settings.ACCOUNT_CLOSURE_RETENTION_DAYS = 30
    _purge(tenant_a, monkeypatch)
