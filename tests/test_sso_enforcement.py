"""Required SSO holds on every path (identity/trust.py, middleware/sso_session.py): account B
serves its member only a session made by B's own IdP within ``sso_session_max_age``, whatever
way the session came: the password form, the bare domain's sign-in (one account: straight
there), the chooser, the switcher, a hand-off link, an invitation, a password reset, a session
older than the switch to SSO, an SSO session past its max age. Every path x {required, not
required}, as one table; admins keep password as break-glass; accounts that do not require
SSO pay no query for the check."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, HandoffToken, Invitation
from accounts.provisioning import add_member
from tests.conftest import PASSWORD, host_client
from tests.support.frontdoor_support import host_and_path, last_mail, link_with
from tests.support.sso_support import make_key_pair, saml_provider, verify_email_domain
from tests.support.trust_support import saml_sign_in

pytestmark = pytest.mark.django_db
BARE = "localhost"
HANDOFF = re.compile(r"^http://[^/]+(?P<path>/accounts/handoff/[^?]+(\?.*)?)$")


@pytest.fixture(scope="module")
def keys():  # type: ignore[no-untyped-def]
    return make_key_pair("idp.bravo.test")


@pytest.fixture
def world(platform, tenant_a, tenant_b, keys):  # type: ignore[no-untyped-def]
    """B has a SAML provider and proved bravo.test; ``bravo-member`` is B's member only."""
    verify_email_domain(tenant_b.account, "bravo.test")
    provider = saml_provider(tenant_b.account, keys, entity_id="https://idp.bravo.test/")
    return tenant_a, tenant_b, provider


def require(b: Any, on: bool) -> None:
    account = Account.objects.get(pk=b.account.pk)
    account.require_sso = on
    account.save()  # its signals forget the cached account


def follow_to_b(location: str, b: Any) -> Any:
    """Where a sign-in elsewhere sent the person: B's host, by hand-off or by its sign-in page.
    The client on B's host after following it."""
    assert urlsplit(location).hostname == b.host, location
    client = host_client(b.host)
    match = HANDOFF.match(location)
    if match:
        client.get(match["path"])
    return client


def on_b(client: Any) -> str | None:
    """Who B's home page is served to."""
    user = client.get("/").wsgi_request.user
    return user.get_username() if user.is_authenticated else None


def password_form(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    client = host_client(b.host)
    client.post("/login/", {"login": "bravo-member", "password": PASSWORD})
    return client


def bare_domain_one_account(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    resp = host_client(BARE).post("/login/", {"login": "bravo-member", "password": PASSWORD})
    return follow_to_b(resp["Location"], b)


def chooser(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    add_member(a.account, "bravo-member")
    bare = host_client(BARE)
    signed_in = bare.post("/login/", {"login": "bravo-member", "password": PASSWORD})
    assert signed_in["Location"] == "/accounts/choose/"
    return follow_to_b(bare.post("/accounts/switch/", {"account": b.account.account_number})["Location"], b)


def switcher(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    add_member(a.account, "bravo-member")
    on_a = host_client(a.host)
    on_a.post("/login/", {"login": "bravo-member", "password": PASSWORD})
    return follow_to_b(on_a.post("/accounts/switch/", {"account": b.account.account_number})["Location"], b)


def handoff_link(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    """A hand-off token however it was issued (before the switch to SSO, say)."""
    from tenancy.hosts import tenant_host

    raw = HandoffToken.issue(b.member.user, b.account, tenant_host(b.account.account_number))
    client = host_client(b.host)
    client.get(f"/accounts/handoff/{raw}/")
    return client


def invitation(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    """A's member (who proved their address), invited to B, accepts with their password."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.update_or_create(user=a.member.user, email=a.member.user.email,
                                          defaults={"verified": True, "primary": True})
    _, token = Invitation.issue(b.account, a.member.user.email, "member", b.admin)
    client = host_client(b.host)
    client.post(f"/invitations/{token}/", {"password": PASSWORD})
    return client


def invitation_new_person(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    """A new person chooses a password through B's invitation."""
    _, token = Invitation.issue(b.account, "ivy@bravo.test", "member", b.admin)
    client = host_client(b.host)
    client.post(f"/invitations/{token}/", {"first_name": "Ivy", "password1": "Iv-pass-phrase-42!",
                                           "password2": "Iv-pass-phrase-42!"})
    return client


def password_reset(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    mail.outbox.clear()
    client = host_client(b.host)
    client.post("/accounts/password/reset/", {"email": b.member.user.email})
    message = last_mail(b.member.user.email)
    if "/accounts/password/reset/key/" not in message.body:
        return client
    _, path = host_and_path(link_with(message, "/accounts/password/reset/key/"))
    form = client.get(path, follow=True)
    new = "N3w-pass-phrase-42!"
    client.post(form.redirect_chain[-1][0] if form.redirect_chain else path,
                {"password1": new, "password2": new})
    return client


def session_from_before(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    """A password session made while B did not require SSO yet."""
    require(b, False)
    client = host_client(b.host)
    client.post("/login/", {"login": "bravo-member", "password": PASSWORD})
    require(b, required)
    return client


def sso_sign_in(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    client = host_client(b.host)
    saml_sign_in(client, b.host, provider, keys, b.member.user.email)
    return client


def sso_past_max_age(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    client = sso_sign_in(a, b, provider, keys, required)
    session = client.session
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] = time.time() - b.account.sso_session_max_age - 60
    session["account_authentication_methods"] = records
    session.save()
    return client


def admin_password_form(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    client = host_client(b.host)
    client.post("/login/", {"login": "bravo-admin", "password": PASSWORD})
    return client


def django_admin_form(a, b, provider, keys, required):  # type: ignore[no-untyped-def]
    """The Django admin's own sign-in form: account admins only (break-glass)."""
    client = host_client(b.host)
    client.post("/admin/login/", {"username": "bravo-admin", "password": PASSWORD})
    return client


# path -> who B serves (not required, required)
MATRIX = [
    (password_form, "bravo-member", None),
    (bare_domain_one_account, "bravo-member", None),
    (chooser, "bravo-member", None),
    (switcher, "bravo-member", None),
    (handoff_link, "bravo-member", None),
    (invitation, "alpha-member", None),
    (invitation_new_person, "ivy@bravo.test", None),
    (password_reset, "bravo-member", None),
    (session_from_before, "bravo-member", None),
    (sso_past_max_age, "bravo-member", None),  # the max age is required SSO's own limit
    (sso_sign_in, "bravo-member", "bravo-member"),
    (admin_password_form, "bravo-admin", "bravo-admin"),
    (django_admin_form, "bravo-admin", "bravo-admin"),
]


@pytest.mark.parametrize("required", [False, True], ids=["not-required", "required"])
@pytest.mark.parametrize(("path", "served_free", "served_required"), MATRIX,
                         ids=[row[0].__name__ for row in MATRIX])
def test_required_sso_holds_on_every_path(world, keys, path, served_free, served_required, required):
    a, b, provider = world
    require(b, required)
    client = path(a, b, provider, keys, required)
    assert on_b(client) == (served_required if required else served_free)


@pytest.mark.parametrize("required", [False, True], ids=["not-required", "required"])
def test_the_chooser_sends_an_sso_account_to_its_sign_in(world, required):
    a, b, _ = world
    require(b, required)
    add_member(a.account, "bravo-member")
    bare = host_client(BARE)
    bare.post("/login/", {"login": "bravo-member", "password": PASSWORD})
    location = bare.post("/accounts/switch/", {"account": b.account.account_number})["Location"]
    if required:
        assert location == f"http://{b.host}/login/" and HandoffToken.objects.count() == 0
        page = host_client(b.host).get("/login/").content.decode()
        assert "Sign in with Example IdP" in page
    else:
        assert "/accounts/handoff/" in location


def test_a_refused_hand_off_shows_the_sso_page_and_leaves_no_session(world):
    _, b, _ = world
    require(b, True)
    from tenancy.hosts import tenant_host

    raw = HandoffToken.issue(b.member.user, b.account, tenant_host(b.account.account_number))
    client = host_client(b.host)
    resp = client.get(f"/accounts/handoff/{raw}/")
    assert resp.status_code == 403 and "Single sign-on required" in resp.content.decode()
    assert "_auth_user_id" not in client.session


def _warm_home_queries(client: Any) -> int:
    client.get("/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    return len(queries)


@pytest.mark.parametrize("required", [False, True], ids=["not-required", "required"])
def test_the_check_costs_no_query_on_a_warm_page(world, keys, monkeypatch, required):
    """The same queries with the check as without it (patched out), for a member's warm page
    of an account that does not require SSO and of one that does (an SSO session)."""
    _, b, provider = world
    require(b, required)
    client = host_client(b.host)
    saml_sign_in(client, b.host, provider, keys, b.member.user.email)
    with_check = _warm_home_queries(client)
    monkeypatch.setattr("middleware.after_auth.sign_out_session_without_sso", lambda request: None)
    monkeypatch.setattr("middleware.after_auth.refuse_sign_in_without_sso",
                        lambda request, response: response)
    without = _warm_home_queries(client)
    assert with_check == without
