"""Issue 22 item 3: sessions, redirects and form origins stay on their host.

A session signed in on tenant A's host, replayed on tenant B's host by a member of both, is
anonymous there; ``next=`` on sign-in and sign-out only names the request's own host; a form
post is accepted from the request's own origin only.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from accounts.provisioning import add_member
from tests.conftest import PASSWORD, host_client
from tests.support.domain_support import verified_domain

pytestmark = pytest.mark.django_db


def _signed_in_on(host: str, username: str) -> Client:
    client = host_client(host)
    response = client.post("/login/", {"login": username, "password": PASSWORD})
    assert response.status_code == 302, response.content[:300]
    return client


def _replay(cookie: str, host: str) -> Client:
    client = Client(HTTP_HOST=host)
    client.cookies[settings.SESSION_COOKIE_NAME] = cookie
    return client


def test_a_session_replayed_on_another_tenants_host_is_signed_out_there(tenant_a, tenant_b):
    add_member(tenant_b.account, "alpha-member")  # a member of both
    on_a = _signed_in_on(tenant_a.host, "alpha-member")
    cookie = on_a.cookies[settings.SESSION_COOKIE_NAME].value
    replayed = _replay(cookie, tenant_b.host).get("/")
    assert not replayed.wsgi_request.user.is_authenticated
    assert _replay(cookie, tenant_b.host).get("/console/").status_code == 302  # to sign-in
    # Still signed in where it was made.
    assert _replay(cookie, tenant_a.host).get("/").wsgi_request.user.username == "alpha-member"


def test_a_session_replayed_on_a_workspace_or_custom_domain_host_is_signed_out_there(tenant_a):
    domain = verified_domain(tenant_a.admin, "app.alpha-bound.test")
    on_a = _signed_in_on(tenant_a.host, "alpha-member")
    cookie = on_a.cookies[settings.SESSION_COOKIE_NAME].value
    assert not _replay(cookie, domain.hostname).get("/").wsgi_request.user.is_authenticated


def test_signing_in_on_the_second_host_works_normally(tenant_a, tenant_b):
    add_member(tenant_b.account, "alpha-member")
    on_a = _signed_in_on(tenant_a.host, "alpha-member")
    on_b = _signed_in_on(tenant_b.host, "alpha-member")
    assert on_b.get("/").wsgi_request.user.username == "alpha-member"
    assert on_a.get("/").wsgi_request.user.username == "alpha-member"


@pytest.mark.parametrize("target", [
    "http://{b}/", "https://{b}/phish", "//{b}/phish", "https://shop.bravo-next.test/phish",
    "https://evil.example/",
])
def test_next_never_leaves_the_host_on_sign_in_and_sign_out(tenant_a, tenant_b, target):
    verified_domain(tenant_b.admin, "shop.bravo-next.test")
    url = target.format(b=tenant_b.host)
    client = host_client(tenant_a.host)
    signed_in = client.post(f"/login/?next={url}", {"login": "alpha-member", "password": PASSWORD,
                                                    "next": url})
    assert signed_in.status_code == 302
    assert signed_in["Location"].startswith("/"), signed_in["Location"]
    assert not signed_in["Location"].startswith("//")
    signed_out = client.post("/logout/", {"next": url})
    assert signed_out.status_code == 302
    assert signed_out["Location"].startswith("/") and not signed_out["Location"].startswith("//")


def test_next_on_the_own_host_is_followed(tenant_a):
    client = host_client(tenant_a.host)
    signed_in = client.post("/login/", {"login": "alpha-member", "password": PASSWORD,
                                        "next": "/console/workspaces/"})
    assert signed_in["Location"] == "/console/workspaces/"
    own = f"http://{tenant_a.host}/console/"
    signed_out = client.post("/logout/", {"next": own})
    assert signed_out["Location"] == own


def _csrf_post(host: str, origin: str, secure: bool) -> int:
    client = Client(HTTP_HOST=host, enforce_csrf_checks=True)
    page = client.get("/login/", secure=secure)
    assert page.status_code == 200
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/login/", {"login": "alpha-member", "password": PASSWORD,
                                       "csrfmiddlewaretoken": token},
                           secure=secure, HTTP_ORIGIN=origin, HTTP_REFERER=f"{origin}/login/")
    return response.status_code


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_csrf_accepts_only_the_requests_own_origin(tenant_a, tenant_b, scheme):
    secure = scheme == "https"
    assert _csrf_post(tenant_a.host, f"{scheme}://{tenant_a.host}", secure) == 302
    assert _csrf_post(tenant_a.host, f"{scheme}://{tenant_b.host}", secure) == 403
    assert _csrf_post(tenant_a.host, f"{scheme}://{settings.ROOT_DOMAIN}", secure) == 403


def test_an_answer_that_never_read_the_session_does_not_vary_on_cookie(tenant_a):
    """The binding half reads the session only when something else did (a sign-in writes
    it; a request with a session cookie was read before the view): an anonymous answer that
    never touched it stays cacheable by any client (no ``Vary: Cookie``)."""
    anonymous = host_client(tenant_a.host).get("/healthz")
    assert anonymous.status_code == 200
    assert "cookie" not in anonymous.get("Vary", "").lower()
    assert settings.SESSION_COOKIE_NAME not in anonymous.cookies
    signed_in = _signed_in_on(tenant_a.host, "alpha-member")  # a sign-in is still bound
    assert "cookie" in signed_in.get("/healthz").get("Vary", "").lower()
