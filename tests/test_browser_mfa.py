"""Issue 22 item 5 in headless Chromium: an admin turns on required two-factor while a member
is signed in, and that member completes TOTP set-up with codes computed by pyotp, although
the browser fetches the favicon, scripts fetch pages in the background and the set-up page is
reloaded on the way."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
import pytest
from allauth.mfa.models import Authenticator

from accounts.models import Account
from tests.support.browser_support import sign_in
from tests.test_browser import ARTIFACTS, chromium_page

pytestmark = [pytest.mark.browser]
ACTIVATE = re.compile(r".*/accounts/2fa/totp/activate/.*")


def test_a_signed_in_member_completes_required_totp_set_up(transactional_db, live_server, tenant_a):
    base = f"http://{tenant_a.host}:{urlsplit(live_server.url).port}"
    favicons: list[int] = []
    with chromium_page() as member:
        member.on("response", lambda r: favicons.append(r.status) if r.url.endswith("/favicon.ico") else None)
        sign_in(member, base, tenant_a.member.user.username, then="/")

        admin_context = member.context.browser.new_context()
        try:
            admin = admin_context.new_page()
            sign_in(admin, base, tenant_a.admin.user.username, then="/")
            admin.goto(f"{base}/console/security/")
            admin.check("#id_require_mfa")
            admin.get_by_role("button", name="Save").click()
            admin.wait_for_url(ACTIVATE)  # the admin is a member too
        finally:
            admin_context.close()

        member.goto(f"{base}/console/workspaces/")  # any page: to the set-up
        member.wait_for_url(ACTIVATE)
        secret = member.locator("#authenticator_secret").input_value()
        # What a browser does beside the page: its favicon, background fetches of pages.
        statuses = member.evaluate("""async () => {
            const out = [];
            for (const url of ["/favicon.ico", "/console/", "/"]) {
                const r = await fetch(url, {redirect: "manual", headers: {"Accept": "application/json"}});
                out.push(r.status);
            }
            return out;
        }""")
        assert statuses == [200, 403, 403]
        member.reload()
        member.wait_for_url(ACTIVATE)
        assert member.locator("#authenticator_secret").input_value() == secret  # the same secret
        member.fill("#id_code", pyotp.TOTP(secret).now())
        member.get_by_role("button", name="Activate").click()
        member.wait_for_url(re.compile(r".*/accounts/2fa/recovery-codes/.*"))
        ARTIFACTS.mkdir(exist_ok=True)
        member.screenshot(path=str(ARTIFACTS / "e2e-mfa-required-signed-in.png"), full_page=True)
        member.goto(f"{base}/")
        assert member.url == f"{base}/"  # set up: pages open again
        assert member.get_by_role("button", name="Sign out").is_visible()
    assert Account.objects.get(pk=tenant_a.account.pk).require_mfa
    assert Authenticator.objects.filter(user=tenant_a.member.user, type="totp").exists()
    assert all(status == 200 for status in favicons), favicons
