"""MFA: TOTP and recovery codes for anyone; Account.require_mfa enforced on that tenant's host
before any page (API keys unaffected); wrong codes rate limited (429)."""

from __future__ import annotations

import pyotp
import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from accounts import usage
from accounts.models import Account, DailyActiveMember, DailyUsage
from tests.conftest import PASSWORD, host_client
from tests.support.api_support import api_for


@pytest.fixture
def strict(tenant_a):  # type: ignore[no-untyped-def]
    Account.objects.filter(pk=tenant_a.account.pk).update(require_mfa=True)
    return tenant_a


def _sign_in(client, user, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/login/", {"login": user.username, "password": password})


def test_admin_turns_require_mfa_on_in_the_console(tenant_a):
    """On the console's Security page (it moved there from the account details)."""
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    assert 'name="require_mfa"' not in admin.get("/console/account/").content.decode()
    assert 'name="require_mfa"' in admin.get("/console/security/").content.decode()
    assert admin.post("/console/security/", {"require_mfa": "on"}).status_code == 302
    assert Account.objects.get(pk=tenant_a.account.pk).require_mfa
    assert host_client(tenant_a.host, tenant_a.member.user).post(
        "/console/security/", {}).status_code in (302, 403)  # a member: refused (or sent to enrol)
    assert Account.objects.get(pk=tenant_a.account.pk).require_mfa


def test_required_mfa_sends_members_to_enrol_before_any_page(strict, tenant_b):
    client = host_client(strict.host)
    response = _sign_in(client, strict.member.user)
    assert response.status_code == 302
    for path in ("/", "/console/", "/console/workspaces/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/2fa/totp/activate/"), path
    # Other tenants are not affected, nor API keys of this one.
    other = host_client(tenant_b.host)
    _sign_in(other, tenant_b.member.user)
    assert other.get("/").status_code == 200
    assert api_for(strict.member).get("workspaces/").status_code == 200

    page = client.get("/accounts/2fa/totp/activate/")
    assert page.status_code == 200 and 'href="/static/css/site.css"' in page.content.decode()
    secret = page.context["form"].secret
    wrong = client.post("/accounts/2fa/totp/activate/", {"code": "000000"})
    assert wrong.status_code == 200
    done = client.post("/accounts/2fa/totp/activate/", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302
    assert Authenticator.objects.filter(user=strict.member.user, type="totp").exists()
    assert client.get("/").status_code == 200


def test_sign_in_asks_for_a_code_and_a_recovery_code_works_once(tenant_a):
    user = tenant_a.member.user
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    codes = RecoveryCodes.activate(user).get_unused_codes()
    client = host_client(tenant_a.host)
    response = _sign_in(client, user)
    assert response.status_code == 302 and response["Location"] == "/accounts/2fa/authenticate/"
    assert not client.get("/").wsgi_request.user.is_authenticated  # no page before the code
    response = client.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert response.status_code == 302
    assert client.get("/").wsgi_request.user == user
    # The same recovery code a second time is refused.
    again = host_client(tenant_a.host)
    _sign_in(again, user)
    response = again.post("/accounts/2fa/authenticate/", {"code": codes[0]})
    assert response.status_code == 200 and not again.get("/").wsgi_request.user.is_authenticated
    response = again.post("/accounts/2fa/authenticate/", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 302 and again.get("/").wsgi_request.user == user


def test_wrong_codes_are_rate_limited(tenant_a, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login_failed": "10/m/ip,3/300s/key"}
    user = tenant_a.member.user
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    client = host_client(tenant_a.host)
    _sign_in(client, user)
    codes = [client.post("/accounts/2fa/authenticate/", {"code": "123456"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert client.post("/accounts/2fa/authenticate/",
                       {"code": pyotp.TOTP(secret).now()}).status_code == 429
    assert not client.get("/").wsgi_request.user.is_authenticated


def test_the_admin_sign_in_cannot_skip_the_second_factor(tenant_a):
    user = tenant_a.admin.user
    TOTP.activate(user, generate_totp_secret())
    client = host_client(tenant_a.host)
    response = client.post("/admin/login/?next=/admin/", {"username": user.username, "password": PASSWORD,
                                                          "next": "/admin/"})
    assert response.status_code == 200 and "two-factor" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert _sign_in(client, user)["Location"] == "/accounts/2fa/authenticate/"


def test_a_member_sent_to_set_up_2fa_is_counted_in_usage_and_the_view_does_not_run(strict, monkeypatch):
    """The post-authentication layer (middleware.after_auth) keeps the order its five jobs had
    as separate layers: membership, then the 2FA gate, whose answer usage still counts."""
    client = host_client(strict.host)
    _sign_in(client, strict.member.user)
    usage.discard()
    monkeypatch.setattr("workspaces.views.render", lambda *a, **k: pytest.fail("the view ran"))
    try:
        assert client.get("/").status_code == 302
        assert usage.flush() == 1
    finally:
        usage.discard()
    assert DailyUsage.objects.get(account=strict.account).requests == 1
    assert list(DailyActiveMember.objects.filter(account=strict.account)
                .values_list("member_id", flat=True)) == [strict.member.pk]
