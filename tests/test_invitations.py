"""Invitations: console and API, hashed single-use tokens, expiry, revocation, host binding."""

from __future__ import annotations

from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Invitation, UserProfile
from tenancy.hosts import tenant_host
from tests.conftest import PASSWORD, host_client
from tests.support.api_support import api_for
from tests.support.frontdoor_support import assert_mail_is_complete, host_and_path, last_mail, link_with

NEW_PASSWORD = "a-long-unique-password-42"


def _invite(tenant, email: str, role: str = "member"):  # type: ignore[no-untyped-def]
    admin = host_client(tenant.host, tenant.admin.user)
    response = admin.post("/console/invitations/", {"email": email, "role": role})
    return response


def _accept_path(tenant, email: str) -> str:  # type: ignore[no-untyped-def]
    link = link_with(last_mail(email), "/invitations/")
    host, path = host_and_path(link)
    assert host == tenant.host
    return path


def test_console_invites_and_the_invitee_sets_a_password(tenant_a):
    response = _invite(tenant_a, "Newbie@Alpha.test", role="admin")
    assert response.status_code == 302
    invitation = Invitation.objects.get(account=tenant_a.account)
    assert invitation.email == "newbie@alpha.test" and invitation.status == "pending"
    assert invitation.expires_at - timezone.now() > timedelta(days=6, hours=23)
    message = last_mail("newbie@alpha.test")
    assert_mail_is_complete(message, tenant_a.account.company_name, tenant_a.host)
    path = _accept_path(tenant_a, "newbie@alpha.test")
    token = path.split("/")[2]
    assert token not in invitation.token_hash and len(invitation.token_hash) == 64  # hashed

    listing = host_client(tenant_a.host, tenant_a.admin.user).get("/console/invitations/")
    assert 'data-invitation="newbie@alpha.test"' in listing.content.decode()

    invitee = host_client(tenant_a.host)
    page = invitee.get(path)
    assert page.status_code == 200 and "Join Alpha Corp" in page.content.decode()
    weak = invitee.post(path, {"first_name": "New", "password1": "123", "password2": "123"})
    assert weak.status_code == 200 and not User.objects.filter(username="newbie@alpha.test").exists()
    done = invitee.post(path, {"first_name": "New", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302 and done["Location"] == "/"
    profile = UserProfile.objects.get(account=tenant_a.account, user__username="newbie@alpha.test")
    assert profile.role == "admin" and profile.user.check_password(NEW_PASSWORD)
    assert invitee.get("/").wsgi_request.user_profile == profile  # signed in here
    assert Invitation.objects.get(pk=invitation.pk).status == "accepted"
    # Single use.
    again = host_client(tenant_a.host).get(path)
    assert again.status_code == 410
    assert host_client(tenant_a.host).post(path, {"password": NEW_PASSWORD}).status_code == 410


def test_link_works_only_on_the_inviting_host(tenant_a, tenant_b, platform):
    _invite(tenant_a, "only-a@alpha.test")
    path = _accept_path(tenant_a, "only-a@alpha.test")
    for host in (tenant_b.host, "localhost", tenant_host("0000-0000-0000")):
        response = host_client(host).get(path)
        assert response.status_code == 404, host
        assert host_client(host).post(path, {"first_name": "x", "password1": NEW_PASSWORD,
                                             "password2": NEW_PASSWORD}).status_code == 404
    assert not User.objects.filter(username="only-a@alpha.test").exists()
    assert host_client(tenant_a.host).get(path).status_code == 200


def test_expired_and_revoked_invitations_are_refused(tenant_a):
    _invite(tenant_a, "late@alpha.test")
    path = _accept_path(tenant_a, "late@alpha.test")
    invitation = Invitation.objects.get(email="late@alpha.test")
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert Invitation.objects.get(pk=invitation.pk).status == "expired"
    response = host_client(tenant_a.host).post(path, {"first_name": "L", "password1": NEW_PASSWORD,
                                                      "password2": NEW_PASSWORD})
    assert response.status_code == 410 and "expired" in response.content.decode()
    # Resending an expired invitation renews it with a new link; the old one stays dead.
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    assert admin.post(f"/console/invitations/{invitation.pk}/resend/").status_code == 302
    new_path = _accept_path(tenant_a, "late@alpha.test")
    assert new_path != path and host_client(tenant_a.host).get(path).status_code == 404
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"
    # Revoked: refused.
    assert admin.post(f"/console/invitations/{invitation.pk}/revoke/").status_code == 302
    assert Invitation.objects.get(pk=invitation.pk).status == "revoked"
    response = host_client(tenant_a.host).post(new_path, {"first_name": "L", "password1": NEW_PASSWORD,
                                                          "password2": NEW_PASSWORD})
    assert response.status_code == 410
    assert not User.objects.filter(username="late@alpha.test").exists()


def test_existing_user_signs_in_as_themself_to_accept(tenant_a, tenant_b):
    bravo = tenant_b.member.user
    EmailAddress.objects.create(user=bravo, email=bravo.email, verified=True)
    _invite(tenant_a, bravo.email)
    path = _accept_path(tenant_a, bravo.email)
    client = host_client(tenant_a.host)
    page = client.get(path).content.decode()
    assert "sign in as" in page and bravo.username in page and 'name="password"' in page
    assert client.post(path, {"password": "wrong"}).status_code == 200
    assert not UserProfile.objects.filter(account=tenant_a.account, user=bravo).exists()
    response = client.post(path, {"password": PASSWORD})
    assert response.status_code == 302
    assert UserProfile.objects.filter(account=tenant_a.account, user=bravo, role="member").exists()
    assert client.get("/").wsgi_request.user == bravo


def test_invitation_refused_for_another_address_user(tenant_a):
    _invite(tenant_a, "someone.else@alpha.test")
    path = _accept_path(tenant_a, "someone.else@alpha.test")
    member = host_client(tenant_a.host, tenant_a.member.user)
    page = member.get(path)
    assert page.status_code == 403 and "another address" in page.content.decode()
    assert member.post(path, {"first_name": "x", "password1": NEW_PASSWORD,
                              "password2": NEW_PASSWORD}).status_code == 403
    assert Invitation.objects.get(email="someone.else@alpha.test").status == "pending"
    assert not User.objects.filter(username="someone.else@alpha.test").exists()


@pytest.mark.django_db(transaction=True)
def test_one_open_invitation_per_account_and_address_in_the_database(tenant_a):
    Invitation.issue(tenant_a.account, "dup@alpha.test", "member")
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(account=tenant_a.account, email="dup@alpha.test",
                                  token_hash="f" * 64, expires_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.filter(email="dup@alpha.test").update(
            accepted_at=timezone.now(), revoked_at=timezone.now())


def test_console_refuses_members_and_duplicates(tenant_a):
    EmailAddress.objects.create(user=tenant_a.member.user, email=tenant_a.member.user.email,
                                verified=True)
    response = _invite(tenant_a, tenant_a.member.user.email)
    assert response.status_code == 200 and "already a member" in response.content.decode()
    _invite(tenant_a, "twice@alpha.test")
    response = _invite(tenant_a, "twice@alpha.test")
    assert response.status_code == 200 and "pending invitation" in response.content.decode()
    assert Invitation.objects.filter(email="twice@alpha.test").count() == 1
    member = host_client(tenant_a.host, tenant_a.member.user)
    assert member.post("/console/invitations/", {"email": "m@alpha.test", "role": "admin"}).status_code == 403


def test_invitation_sends_are_rate_limited(tenant_a, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "send_invitation": "4/h/user,2/h/key"}
    assert _invite(tenant_a, "r1@alpha.test").status_code == 302
    invitation = Invitation.objects.get(email="r1@alpha.test")
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    assert admin.post(f"/console/invitations/{invitation.pk}/resend/").status_code == 302
    # A third mail to the same address within the hour: 429.
    assert admin.post(f"/console/invitations/{invitation.pk}/resend/").status_code == 429
    assert _invite(tenant_a, "r2@alpha.test").status_code == 302
    # The admin's own limit (4 attempts per hour) is reached, whatever the address; also through the API.
    assert _invite(tenant_a, "r3@alpha.test").status_code == 429
    api = api_for(tenant_a.admin)
    response = api.post("invitations/", {"email": "r4@alpha.test"})
    assert response.status_code == 429 and response.json()["error"]["code"] == "throttled"
    assert not Invitation.objects.filter(email__in=["r3@alpha.test", "r4@alpha.test"]).exists()


def test_api_lists_creates_resends_and_revokes(tenant_a, tenant_b):
    api = api_for(tenant_a.admin)
    created = api.post("invitations/", {"email": "api@alpha.test", "role": "admin"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["email"] == "api@alpha.test" and body["status"] == "pending" and body["role"] == "admin"
    assert "token" not in body and "token_hash" not in body
    first = _accept_path(tenant_a, "api@alpha.test")
    assert api.post("invitations/", {"email": "api@alpha.test"}).status_code == 409
    resent = api.post(f"invitations/{body['id']}/resend/")
    assert resent.status_code == 200 and len(mail.outbox) == 2
    assert _accept_path(tenant_a, "api@alpha.test") != first
    assert api.delete(f"invitations/{body['id']}/").status_code == 204
    listed = api.get("invitations/").json()["results"]
    assert [(i["email"], i["status"]) for i in listed] == [("api@alpha.test", "revoked")]
    assert api.delete(f"invitations/{body['id']}/").status_code == 409
    assert api.post(f"invitations/{body['id']}/resend/").status_code == 409
    # Members' keys and other tenants' keys see nothing.
    assert api_for(tenant_a.member).get("invitations/").status_code == 403
    assert api_for(tenant_a.member).post("invitations/", {"email": "m@alpha.test"}).status_code == 403
    other = api_for(tenant_b.admin, host=tenant_a.host)
    assert other.get("invitations/").status_code in (401, 403)
    assert api_for(tenant_b.admin).get(f"invitations/{body['id']}/").status_code == 404


def test_a_user_without_a_password_chooses_one_when_accepting(tenant_a, tenant_b):
    user = tenant_b.member.user
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.create(user=user, email=user.email, verified=True)
    _invite(tenant_a, user.email)
    path = _accept_path(tenant_a, user.email)
    client = host_client(tenant_a.host)
    assert 'name="password1"' in client.get(path).content.decode()
    response = client.post(path, {"first_name": "B", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert UserProfile.objects.filter(account=tenant_a.account, user=user).exists()
    assert User.objects.filter(email__iexact=user.email).count() == 1
