"""Sign-up on the bare domain, email verification and the hand-off to the new tenant host."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.utils import timezone

from accounts.models import Account, AccountContact, HandoffToken, UserProfile
from tenancy.hosts import tenant_host
from tests.conftest import host_client
from tests.support.frontdoor_support import assert_mail_is_complete, host_and_path, last_mail, link_with

PLATFORM = "localhost"
SIGNUP = {"company_name": "Zeta Widgets", "first_name": "Zoe", "last_name": "Zed",
          "email": "zoe@zeta.test", "password1": "a-long-unique-password-42"}


def _cookies_without_domain(response) -> None:  # type: ignore[no-untyped-def]
    for name, morsel in response.cookies.items():
        assert not morsel["domain"], f"cookie {name} carries Domain={morsel['domain']}"


def _sign_up(client: Client, data: dict | None = None):  # type: ignore[no-untyped-def]
    response = client.post("/accounts/signup/", data or SIGNUP)
    _cookies_without_domain(response)
    return response


def _verify(client: Client, email: str):  # type: ignore[no-untyped-def]
    link = link_with(last_mail(email), "/accounts/confirm-email/")
    host, path = host_and_path(link)
    assert host == PLATFORM  # verification happens where the person signed up
    assert client.get(path).status_code == 200
    response = client.post(path)
    _cookies_without_domain(response)
    return response


def test_signup_page_on_the_bare_domain_only(platform, tenant_a):
    page = host_client(PLATFORM).get("/accounts/signup/")
    assert page.status_code == 200
    body = page.content.decode()
    for field in ("company_name", "first_name", "email", "password1"):
        assert f'name="{field}"' in body
    assert 'href="/static/css/site.css"' in body  # the site's layout
    assert host_client(tenant_a.host).get("/accounts/signup/").status_code == 404
    assert host_client(tenant_a.host).post("/accounts/signup/", SIGNUP).status_code == 404
    assert not User.objects.filter(email="zoe@zeta.test").exists()


def test_signup_verification_and_handoff(platform):
    client = host_client(PLATFORM)
    response = _sign_up(client)
    assert response.status_code == 302 and "/accounts/confirm-email/" in response["Location"]
    account = Account.objects.get(company_name="Zeta Widgets")
    user = User.objects.get(email="zoe@zeta.test")
    assert user.username == "zoe@zeta.test" and user.first_name == "Zoe"
    profile = UserProfile.objects.get(user=user)
    assert profile.account == account and profile.role == "admin"
    assert AccountContact.objects.get(account=account, is_primary=True).email == "zoe@zeta.test"
    # Not signed in anywhere before verification.
    assert not client.get("/").wsgi_request.user.is_authenticated
    message = last_mail("zoe@zeta.test")
    assert_mail_is_complete(message, "Zeta Widgets", tenant_host(account.account_number))
    assert message.subject.startswith("[Zeta Widgets] ")
    assert f"register an account on {tenant_host(account.account_number)}" in message.body

    response = _verify(client, "zoe@zeta.test")
    assert response.status_code == 302
    host, path = host_and_path(response["Location"])
    assert host == tenant_host(account.account_number)
    assert path.startswith("/accounts/handoff/")
    token = path.split("/")[3]
    stored = HandoffToken.objects.get(user=user)
    assert token not in stored.token_hash and stored.host == host  # only a hash is stored
    assert stored.expires_at - stored.created_at <= timedelta(seconds=60)

    tenant = host_client(host)
    landed = tenant.get(path)
    _cookies_without_domain(landed)
    assert landed.status_code == 302 and landed["Location"] == "/console/"
    console = tenant.get("/console/")
    assert console.status_code == 200 and "Zeta Widgets" in console.content.decode()
    # Single use: the same link again, in another browser, leads nowhere.
    assert host_client(host).get(path).status_code == 404


def test_handoff_token_is_bound_to_its_host_and_expires(platform, tenant_a):
    user = tenant_a.admin.user
    raw = HandoffToken.issue(user, tenant_a.account, tenant_a.host)
    # Another tenant's host, the bare domain, a workspace host of the same account: 404.
    for host in (PLATFORM, tenant_host("1111-2222-3333")):
        client = host_client(host)
        response = client.get(f"/accounts/handoff/{raw}/")
        assert response.status_code in (404,), host
    other = Account.objects.create(company_name="Other")
    assert host_client(tenant_host(other.account_number)).get(f"/accounts/handoff/{raw}/").status_code == 404
    # Expired tokens do not work on the right host either.
    HandoffToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client = host_client(tenant_a.host)
    assert client.get(f"/accounts/handoff/{raw}/").status_code == 404
    assert not client.get("/").wsgi_request.user.is_authenticated
    # A fresh one works once.
    raw = HandoffToken.issue(user, tenant_a.account, tenant_a.host)
    assert client.get(f"/accounts/handoff/{raw}/").status_code == 302
    assert client.get("/console/").status_code == 200
    assert host_client(tenant_a.host).get(f"/accounts/handoff/{raw}/").status_code == 404


def test_verification_in_another_browser_gets_no_handoff(platform):
    _sign_up(host_client(PLATFORM))
    account = Account.objects.get(company_name="Zeta Widgets")
    response = _verify(host_client(PLATFORM), "zoe@zeta.test")
    host, path = host_and_path(response["Location"])
    assert host == tenant_host(account.account_number) and path == "/login/"
    assert not HandoffToken.objects.exists()
    # The address is verified: signing in there works.
    client = host_client(host)
    assert client.post("/login/", {"login": "zoe@zeta.test",
                                   "password": SIGNUP["password1"]}).status_code == 302


def test_existing_address_gets_no_second_user(platform, tenant_a):
    taken = dict(SIGNUP, email=tenant_a.admin.user.email)
    response = _sign_up(host_client(PLATFORM), taken)
    fresh = _sign_up(host_client(PLATFORM), dict(SIGNUP, email="fresh@zeta.test", company_name="F"))
    assert response.status_code == fresh.status_code == 302  # the same answer as a new address
    assert response["Location"] == fresh["Location"]
    assert "already" in last_mail(tenant_a.admin.user.email).body  # its owner is told instead
    assert not Account.objects.filter(company_name="Zeta Widgets").exists()
    assert User.objects.filter(email__iexact=tenant_a.admin.user.email).count() == 1


def test_signup_can_be_closed(platform, settings):
    settings.SIGNUP_OPEN = False
    client = host_client(PLATFORM)
    page = client.get("/accounts/signup/")
    assert "closed" in page.content.decode().lower()
    client.post("/accounts/signup/", SIGNUP)
    assert not Account.objects.filter(company_name="Zeta Widgets").exists()
    assert mail.outbox == []


def test_signup_is_rate_limited(platform, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/h/ip"}
    client = host_client(PLATFORM)
    for i in range(2):
        assert _sign_up(client, dict(SIGNUP, email=f"p{i}@zeta.test")).status_code == 302
        client = host_client(PLATFORM)
    response = _sign_up(client, dict(SIGNUP, email="p9@zeta.test"))
    assert response.status_code == 429
    assert not User.objects.filter(email="p9@zeta.test").exists()


def test_signup_is_rate_limited_per_email_address(platform, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup_email": "1/h/key"}
    assert _sign_up(host_client(PLATFORM)).status_code == 302
    again = _sign_up(host_client(PLATFORM), dict(SIGNUP, company_name="Zeta Two"))
    assert again.status_code == 429
    assert _sign_up(host_client(PLATFORM), dict(SIGNUP, email="z2@zeta.test")).status_code == 302
    assert len([m for m in mail.outbox if "zoe@zeta.test" in m.to]) == 1


def test_session_cookie_domain_only_when_configured(platform, tenant_a, settings):
    client = host_client(tenant_a.host)
    response = client.post("/login/", {"login": tenant_a.member.user.username,
                                       "password": "correct-horse-battery-staple"})
    assert response.status_code == 302 and "sessionid" in response.cookies
    _cookies_without_domain(response)
    settings.SESSION_COOKIE_DOMAIN = ".localhost"
    response = host_client(tenant_a.host).post("/login/", {"login": tenant_a.member.user.username,
                                                          "password": "correct-horse-battery-staple"})
    assert response.cookies["sessionid"]["domain"] == ".localhost"


@pytest.mark.parametrize("url,expected", [
    ("smtp://mail.example.com", {"host": "mail.example.com", "port": 25, "use_ssl": False, "use_tls": False}),
    ("smtp://u:p@mail.example.com:587?tls=1", {"port": 587, "use_tls": True, "user": "u", "password": "p"}),
    ("smtps://apikey:s%40cret%2F1@smtp.example.com", {"port": 465, "use_ssl": True, "use_tls": False,
                                                      "password": "s@cret/1"}),
])
def test_email_url(url, expected):
    from smarter.env import smtp_settings

    parsed = smtp_settings(url)
    for key, value in expected.items():
        assert getattr(parsed, key) == value, key


def test_email_url_rejects_other_schemes():
    from django.core.exceptions import ImproperlyConfigured

    from smarter.env import smtp_settings

    for bad in ("http://mail.example.com", "smtp://", "mailto:x@y"):
        with pytest.raises(ImproperlyConfigured):
            smtp_settings(bad)


def test_demo_prints_where_signup_and_find_my_accounts_are(db, settings):
    from io import StringIO

    from django.core.management import call_command

    settings.DEBUG = True
    out = StringIO()
    call_command("load_demo", stdout=out)
    text = out.getvalue()
    assert f"http://localhost:{settings.PORT}/accounts/signup/" in text
    assert f"http://localhost:{settings.PORT}/accounts/find/" in text


def test_app_json_declares_the_email_and_signup_settings():
    import json
    from pathlib import Path

    env = json.loads((Path(__file__).resolve().parent.parent / "app.json").read_text())["env"]
    for name in ("EMAIL_URL", "DEFAULT_FROM_EMAIL", "SIGNUP_OPEN"):
        assert name in env and env[name]["description"]
