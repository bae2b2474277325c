"""Issue 22 item 5: required two-factor that a member can actually finish.

A favicon is served; only page requests are redirected into the set-up flow; the pending
TOTP secret stays the same until it is confirmed; a new member who just chose a password is
not asked for it again.
"""

from __future__ import annotations

import pyotp
import pytest
from allauth.mfa.models import Authenticator

from accounts.models import Account, UserProfile
from tests.conftest import PASSWORD, host_client
from tests.support.frontdoor_support import host_and_path, last_mail, link_with

pytestmark = pytest.mark.django_db
ACTIVATE = "/accounts/2fa/totp/activate/"
NEW_PASSWORD = "a-long-unique-password-42"


@pytest.fixture
def strict(tenant_a):  # type: ignore[no-untyped-def]
    Account.objects.filter(pk=tenant_a.account.pk).update(require_mfa=True)
    return tenant_a


def _signed_in(tenant):  # type: ignore[no-untyped-def]
    client = host_client(tenant.host)
    assert client.post("/login/", {"login": tenant.member.user.username,
                                   "password": PASSWORD}).status_code == 302
    return client


def test_a_favicon_is_served_on_every_host_even_during_required_set_up(strict, platform):
    client = _signed_in(strict)
    for c in (client, host_client("localhost")):
        response = c.get("/favicon.ico", HTTP_ACCEPT="image/avif,image/webp,*/*;q=0.8",
                         HTTP_SEC_FETCH_DEST="image")
        assert response.status_code == 200
        assert response["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body[:4] == b"\x00\x00\x01\x00"  # an ICO file


@pytest.mark.parametrize("headers", [
    {"HTTP_SEC_FETCH_DEST": "image", "HTTP_ACCEPT": "image/*,*/*;q=0.8"},
    {"HTTP_SEC_FETCH_DEST": "script", "HTTP_ACCEPT": "*/*"},
    {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest", "HTTP_ACCEPT": "text/html"},
    {"HTTP_SEC_FETCH_DEST": "empty", "HTTP_ACCEPT": "*/*"},
    {"HTTP_ACCEPT": "application/json"},
])
def test_non_page_requests_are_never_redirected_into_the_flow(strict, headers):
    client = _signed_in(strict)
    response = client.get("/console/workspaces/", **headers)
    assert response.status_code == 403
    assert "Location" not in response


def test_a_page_request_is_still_sent_to_set_up(strict):
    client = _signed_in(strict)
    response = client.get("/console/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8",
                          HTTP_SEC_FETCH_DEST="document")
    assert response.status_code == 302 and response["Location"].startswith(ACTIVATE)


def test_the_pending_secret_survives_reloads_and_stray_requests(strict):
    client = _signed_in(strict)
    first = client.get(ACTIVATE).context["form"].secret
    client.get("/favicon.ico")
    client.get("/console/", HTTP_SEC_FETCH_DEST="image")
    again = client.get(ACTIVATE)
    assert again.context["form"].secret == first
    assert first in again.content.decode()
    done = client.post(ACTIVATE, {"code": pyotp.TOTP(first).now()})
    assert done.status_code == 302
    assert Authenticator.objects.filter(user=strict.member.user, type="totp").exists()
    # Confirmed: the next set-up (after removing it) starts with a new secret.
    assert client.get("/").status_code == 200


def test_a_new_member_is_not_asked_for_the_password_they_just_chose(tenant_a):
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    assert admin.post("/console/invitations/", {"email": "new@alpha.test",
                                                "role": "member"}).status_code == 302
    strict = tenant_a
    strict.account.require_mfa = True
    strict.account.save()  # signals refresh the cached account
    host, path = host_and_path(link_with(last_mail("new@alpha.test"), "/invitations/"))
    client = host_client(host)
    done = client.post(path, {"first_name": "New", "password1": NEW_PASSWORD,
                              "password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert UserProfile.objects.filter(account=strict.account, user__email="new@alpha.test").exists()
    home = client.get("/")
    assert home.status_code == 302 and home["Location"].startswith(ACTIVATE)
    page = client.get(home["Location"])
    assert page.status_code == 200, page.get("Location")  # not /accounts/reauthenticate/
    secret = page.context["form"].secret
    assert client.post(ACTIVATE, {"code": pyotp.TOTP(secret).now()}).status_code == 302
    assert client.get("/").status_code == 200
