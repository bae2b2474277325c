"""Issue 24 item 5: the profile page of every signed-in person, on tenant hosts and the bare
domain, and "sign out everywhere else" across hosts (sessions are host-bound)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.provisioning import add_member
from tenancy.hosts import tenant_host
from tests.conftest import PASSWORD, host_client

pytestmark = pytest.mark.django_db


def _signed_in_on(host: str, username: str, agent: str = "Browser/1") -> Client:
    client = Client(HTTP_HOST=host, HTTP_USER_AGENT=agent)
    response = client.post("/login/", {"login": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def test_anonymous_is_sent_to_sign_in(tenant_a):
    response = host_client(tenant_a.host).get("/accounts/profile/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_page_shows_name_emails_password_mfa_and_sessions(tenant_a):
    client = _signed_in_on(tenant_a.host, "alpha-member")
    EmailAddress.objects.update_or_create(user=tenant_a.member.user, email="member@alpha.test",
                                          defaults={"primary": True, "verified": True})
    response = client.get("/accounts/profile/")
    assert response.status_code == 200
    text = response.content.decode()
    for words in ("Your profile", "member@alpha.test", "Primary", "Change your password",
                  "Turn on two-factor authentication", "Sign out everywhere else",
                  tenant_a.host, "This browser", 'href="/accounts/email/"'):
        assert words in text, words


def test_the_name_is_saved_on_one_line(tenant_a):
    client = _signed_in_on(tenant_a.host, "alpha-member")
    response = client.post("/accounts/profile/", {"first_name": " Ada \n", "last_name": "Love  lace"})
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    user = User.objects.get(username="alpha-member")
    assert (user.first_name, user.last_name) == ("Ada", "Love lace")
    assert "Your name is saved." in client.get("/accounts/profile/").content.decode()


def test_a_too_long_name_is_a_400_with_the_reason(tenant_a):
    client = _signed_in_on(tenant_a.host, "alpha-member")
    response = client.post("/accounts/profile/", {"first_name": "x" * 200, "last_name": ""})
    assert response.status_code == 400
    assert "at most 150 characters" in response.content.decode()


def test_it_works_on_the_bare_domain(platform):
    client = _signed_in_on(settings.ROOT_DOMAIN, "platform-member")
    response = client.get("/accounts/profile/")
    assert response.status_code == 200 and b"Your profile" in response.content


def test_sign_out_everywhere_else_ends_the_sessions_of_other_hosts(tenant_a, tenant_b):
    add_member(tenant_b.account, "alpha-member")  # a member of both accounts
    on_a = _signed_in_on(tenant_a.host, "alpha-member", "Firefox/1")
    on_b = _signed_in_on(tenant_b.host, "alpha-member", "Chrome/2")
    also_a = _signed_in_on(tenant_a.host, "alpha-member", "Safari/3")
    hosts = set(UserSession.objects.filter(user__username="alpha-member")
                .values_list("data__host", flat=True))
    assert hosts == {tenant_a.host, tenant_b.host}

    page = on_a.get("/accounts/profile/").content.decode()
    assert tenant_b.host in page and "Chrome/2" in page and "Safari/3" in page

    response = on_a.post("/accounts/profile/sessions/sign-out-others/")
    assert response.status_code == 302 and response["Location"] == "/accounts/profile/"
    assert on_a.get("/").wsgi_request.user.is_authenticated
    assert not on_b.get("/").wsgi_request.user.is_authenticated
    assert not also_a.get("/").wsgi_request.user.is_authenticated
    assert on_b.get("/console/").status_code == 302
    assert list(UserSession.objects.filter(user__username="alpha-member")
                .values_list("data__host", flat=True)) == [tenant_a.host]


def test_ending_sessions_needs_a_post_and_a_session(tenant_a):
    client = _signed_in_on(tenant_a.host, "alpha-member")
    assert client.get("/accounts/profile/sessions/sign-out-others/").status_code == 405
    anon = host_client(tenant_a.host).post("/accounts/profile/sessions/sign-out-others/")
    assert anon.status_code == 302 and "/login/" in anon["Location"]


def test_a_session_of_another_host_does_not_open_the_profile_here(tenant_a, tenant_b):
    on_a = _signed_in_on(tenant_a.host, "alpha-member")
    replayed = Client(HTTP_HOST=tenant_b.host)
    replayed.cookies[settings.SESSION_COOKIE_NAME] = on_a.cookies[settings.SESSION_COOKIE_NAME].value
    assert replayed.get("/accounts/profile/").status_code == 302


def test_allauths_sessions_page_renders(tenant_a):
    client = _signed_in_on(tenant_a.host, "alpha-member")
    response = client.get("/accounts/sessions/")
    assert response.status_code == 200 and b"Sign Out" in response.content


def test_profile_queries_do_not_grow_with_emails(tenant_a):
    client = _signed_in_on(tenant_a.host, "alpha-member")
    client.get("/accounts/profile/")
    with CaptureQueriesContext(connection) as few:
        client.get("/accounts/profile/")
    for i in range(20):
        EmailAddress.objects.create(user=tenant_a.member.user, email=f"m{i}@alpha.test")
    with CaptureQueriesContext(connection) as many:
        client.get("/accounts/profile/")
    assert len(many) == len(few)


def test_workspace_host_serves_the_profile_too(tenant_a):
    from workspaces.models import Workspace

    Workspace.objects.create(user_profile=tenant_a.admin, name="team")
    client = _signed_in_on(tenant_host(tenant_a.account.account_number, "team"), "alpha-member")
    assert client.get("/accounts/profile/").status_code == 200
