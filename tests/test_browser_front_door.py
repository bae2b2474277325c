"""The front door end to end in headless Chromium against a live server, reading mail from
that server's outbox (the live server runs in this process): (a) sign-up and hand-off,
(b) invitation, (c) forgotten password, (d) find my accounts, (e) required MFA."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.models import Account, Invitation, UserProfile
from accounts.provisioning import add_member
from tests.support.browser_support import sign_in
from tests.support.frontdoor_support import links
from tests.test_browser import ARTIFACTS, chromium_page
from workspaces.models import Workspace

NEW_PASSWORD = "a-long-unique-password-42"
pytestmark = [pytest.mark.browser]


def _port(live_server) -> int:  # type: ignore[no-untyped-def]
    return urlsplit(live_server.url).port  # type: ignore[return-value]


def _mail_link(address: str, fragment: str) -> str:
    """The newest link containing ``fragment`` in mail to ``address`` (no database access)."""
    for message in reversed(mail.outbox):
        if address in message.to:
            found = [u for u in links(message) if fragment in u]
            if found:
                return found[0]
    raise AssertionError(f"no mail to {address} with {fragment!r}: {[m.subject for m in mail.outbox]}")


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"e2e-{name}.png"), full_page=True)


def test_a_signup_verification_lands_on_the_new_tenant_console(transactional_db, live_server, platform):
    port = _port(live_server)
    with chromium_page() as page:
        page.goto(f"http://localhost:{port}/")
        page.get_by_role("link", name="Sign up").click()
        page.wait_for_url(f"http://localhost:{port}/accounts/signup/")
        page.fill("#id_company_name", "Yankee Yachts")
        page.fill("#id_first_name", "Yara")
        page.fill("#id_email", "yara@yankee.test")
        page.fill("#id_password1", NEW_PASSWORD)
        _shot(page, "signup")
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(re.compile(r".*/accounts/confirm-email/$"))
        link = _mail_link("yara@yankee.test", "/accounts/confirm-email/")
        assert urlsplit(link).hostname == "localhost"
        page.goto(link)
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_url(re.compile(r"http://\d{4}-\d{4}-\d{4}\.alpha\.api\.localhost:\d+/console/$"))
        host = urlsplit(page.url).hostname
        assert page.get_by_role("heading", name="Console").is_visible()
        assert "Yankee Yachts" in page.locator("main").inner_text()
        cookies = page.context.cookies()
        _shot(page, "signup-console")
    number = host.split(".")[0]  # type: ignore[union-attr]
    account = Account.objects.get(account_number=number)
    assert account.company_name == "Yankee Yachts"
    assert UserProfile.objects.get(account=account).user.email == "yara@yankee.test"
    # Host-only cookies: each on exactly the host that set it (no leading dot, no sharing).
    sessions = {c["domain"] for c in cookies if c["name"] == "sessionid"}
    assert host in sessions and sessions <= {host, "localhost"}


def test_b_invited_member_sets_a_password_and_sees_the_workspaces(transactional_db, live_server, tenant_a):
    Workspace.objects.create(user_profile=tenant_a.admin, name="team", description="Team space")
    base = f"http://{tenant_a.host}:{_port(live_server)}"
    with chromium_page() as page:
        sign_in(page, base, tenant_a.admin.user.username)
        page.wait_for_url(f"{base}/")
        page.get_by_role("link", name="Console").click()
        page.get_by_role("link", name="Invitations").click()
        page.wait_for_url(f"{base}/console/invitations/")
        form = page.locator("form#invite")
        form.locator("input[name=email]").fill("dave@alpha.test")
        form.locator("select[name=role]").select_option("member")
        form.get_by_role("button", name="Send invitation").click()
        page.wait_for_url(f"{base}/console/invitations/")
        row = page.locator('tr[data-invitation="dave@alpha.test"]')
        assert "pending" in row.inner_text()
        page.context.clear_cookies()

        link = _mail_link("dave@alpha.test", "/invitations/")
        assert urlsplit(link).hostname == tenant_a.host
        page.goto(link)
        assert page.get_by_role("heading", name="Join Alpha Corp").is_visible()
        page.fill("#id_first_name", "Dave")
        page.fill("#id_password1", NEW_PASSWORD)
        page.fill("#id_password2", NEW_PASSWORD)
        page.get_by_role("button", name="Join Alpha Corp").click()
        page.wait_for_url(f"{base}/")
        assert page.get_by_role("link", name="team").first.is_visible()
        assert "dave@alpha.test" in page.locator("header").inner_text()
        _shot(page, "invitation-accepted")
    dave = UserProfile.objects.get(account=tenant_a.account, user__username="dave@alpha.test")
    assert dave.role == "member"
    assert Invitation.objects.get(email="dave@alpha.test").status == "accepted"


def test_c_forgotten_password_reset_signs_in(transactional_db, live_server, tenant_a):
    base = f"http://{tenant_a.host}:{_port(live_server)}"
    email = tenant_a.member.user.email
    with chromium_page() as page:
        page.goto(f"{base}/login/")
        page.get_by_role("link", name="Forgot your password?").click()
        page.fill("#id_email", email)
        page.get_by_role("button", name="Reset My Password").click()
        page.wait_for_url(f"{base}/accounts/password/reset/done/")
        link = _mail_link(email, "/accounts/password/reset/key/")
        assert urlsplit(link).hostname == tenant_a.host
        page.goto(link)
        page.fill("#id_password1", NEW_PASSWORD)
        page.fill("#id_password2", NEW_PASSWORD)
        page.get_by_role("button", name=re.compile("Change Password", re.I)).click()
        page.wait_for_url(f"{base}/")
        assert tenant_a.member.user.username in page.locator("header").inner_text()
        assert page.get_by_role("button", name="Sign out").is_visible()
    tenant_a.member.user.refresh_from_db()
    assert tenant_a.member.user.check_password(NEW_PASSWORD)


def test_d_find_my_accounts_lists_exactly_the_active_tenants(transactional_db, live_server, platform,
                                                            tenant_a, tenant_b, make_tenant):
    user = tenant_a.member.user
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    add_member(tenant_b.account, user.username)
    gone = make_tenant("charlie")
    add_member(gone.account, user.username)
    Account.objects.filter(pk=gone.account.pk).update(is_active=False)
    port = _port(live_server)
    with chromium_page() as page:
        page.goto(f"http://localhost:{port}/login/")
        page.get_by_role("link", name="Find my accounts").click()
        page.fill("#id_email", user.email)
        page.get_by_role("button", name="Email me my accounts").click()
        page.wait_for_url(f"http://localhost:{port}/accounts/find/sent/")
        assert page.get_by_role("heading", name="Check your inbox").is_visible()
        message = [m for m in mail.outbox if user.email in m.to][-1]
        hosts = {urlsplit(u).hostname for u in links(message)}
        first = next(u for u in links(message) if tenant_b.host in u)
        page.goto(first)
        assert "Bravo Corp" in page.locator("header").inner_text()
    assert hosts == {tenant_a.host, tenant_b.host}


def test_e_required_mfa_enrolment_and_a_single_use_recovery_code(transactional_db, live_server, tenant_a):
    base = f"http://{tenant_a.host}:{_port(live_server)}"
    member = tenant_a.member.user.username
    with chromium_page() as page:
        sign_in(page, base, tenant_a.admin.user.username)
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/console/security/")
        page.check("#id_require_mfa")
        page.get_by_role("button", name="Save").click()
        # The admin is a member too: from now on they must enrol before any page.
        page.wait_for_url(re.compile(r".*/accounts/2fa/totp/activate/.*"))
        page.context.clear_cookies()

        sign_in(page, base, member)
        page.wait_for_url(re.compile(r".*/accounts/2fa/totp/activate/.*"))
        page.goto(f"{base}/console/workspaces/")  # any page: back to enrolment
        page.wait_for_url(re.compile(r".*/accounts/2fa/totp/activate/.*"))
        secret = page.locator("#authenticator_secret").input_value()
        page.fill("#id_code", pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Activate").click()
        page.wait_for_url(re.compile(r".*/accounts/2fa/recovery-codes/.*"))
        codes = page.locator("#recovery_codes").input_value().split()
        assert len(codes) >= 5
        _shot(page, "mfa-recovery-codes")
        page.goto(f"{base}/")
        assert page.url == f"{base}/"
        page.get_by_role("button", name="Sign out").click()

        # Next sign-in: a code before any page; a recovery code works ...
        sign_in(page, base, member)
        page.wait_for_url(f"{base}/accounts/2fa/authenticate/")
        page.goto(f"{base}/")
        assert page.get_by_role("link", name="Sign in").is_visible()  # still anonymous
        page.goto(f"{base}/accounts/2fa/authenticate/")
        page.fill("#id_code", codes[0])
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url(f"{base}/")
        assert page.get_by_role("button", name="Sign out").is_visible()
        page.get_by_role("button", name="Sign out").click()

        # ... once.
        sign_in(page, base, member)
        page.wait_for_url(f"{base}/accounts/2fa/authenticate/")
        page.fill("#id_code", codes[0])
        page.get_by_role("button", name="Sign In").click()
        assert page.url == f"{base}/accounts/2fa/authenticate/"
        assert page.locator(".errorlist").is_visible()
    assert Account.objects.get(pk=tenant_a.account.pk).require_mfa
