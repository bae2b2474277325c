"""Issue 24 items 1-3 in headless Chromium against a live server: the bare domain's front page,
one sign-in there (one account: straight there; two: choose, pick, land signed in; with
TOTP), the header's switcher moving between two accounts, and the refused cases (an inactive
membership and a closed account are not offered, a replayed hand-off signs nobody in), with
screenshots in test-artifacts/screenshots/ at 1280 px and 375 px (no horizontal scroll)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

from accounts.models import Account, UserProfile
from accounts.provisioning import add_member
from tests.support.browser_support import sign_in
from tests.test_browser import ARTIFACTS, chromium_page

pytestmark = [pytest.mark.browser]
SHOTS = ARTIFACTS / "screenshots"
TENANT_URL = r"http://{host}:\d+{path}$"


def _port(live_server) -> int:  # type: ignore[no-untyped-def]
    return urlsplit(live_server.url).port  # type: ignore[return-value]


def _shot(page: Any, name: str) -> None:
    """Full-page screenshots at the current width and at 375 px, where nothing may scroll
    sideways."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"frontdoor-{name}.png"), full_page=True)
    size = page.viewport_size
    page.set_viewport_size({"width": 375, "height": 800})
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    page.screenshot(path=str(SHOTS / f"frontdoor-{name}-375.png"), full_page=True)
    page.set_viewport_size(size)
    assert overflow <= 0, f"{name}: {overflow}px of horizontal scroll at 375 px"


def _at(page: Any, host: str, path: str) -> None:
    page.wait_for_url(re.compile(TENANT_URL.format(host=re.escape(host), path=re.escape(path))))


def test_the_front_page(transactional_db, live_server, platform):
    base = f"http://localhost:{_port(live_server)}"
    with chromium_page() as page:
        page.goto(f"{base}/")
        assert page.get_by_role("heading", name=re.compile("Workspaces for every team")).is_visible()
        for name in ("Create an account", "Sign in", "Find my accounts"):
            assert page.get_by_role("link", name=name).first.is_visible(), name
        assert "No workspaces to show" not in page.content()
        _shot(page, "front-page")
        page.get_by_role("link", name="Find my accounts").click()
        page.wait_for_url(f"{base}/accounts/find/")
        page.goto(f"{base}/")
        page.locator("main").get_by_role("link", name="Sign in").click()
        page.wait_for_url(f"{base}/login/")
        assert page.get_by_role("heading", name="Sign in", exact=True).is_visible()
        assert "One sign-in for all your accounts" in page.locator("main").inner_text()
        _shot(page, "sign-in")


def test_one_account_signs_in_on_the_bare_domain_and_lands_there(transactional_db, live_server, tenant_a):
    base = f"http://localhost:{_port(live_server)}"
    with chromium_page() as page:
        sign_in(page, base, tenant_a.admin.user.email)
        _at(page, tenant_a.host, "/console/")  # straight there, an admin: the console
        assert "alpha-admin" in page.locator("header").inner_text()
        assert "Alpha Corp" in page.locator("header .brand").inner_text()
        _shot(page, "one-account-landed")


def test_two_accounts_choose_pick_and_land_signed_in(transactional_db, live_server, tenant_a, tenant_b):
    add_member(tenant_b.account, "alpha-member")
    base = f"http://localhost:{_port(live_server)}"
    with chromium_page() as page:
        sign_in(page, base, "alpha-member")
        page.wait_for_url(f"{base}/accounts/choose/")
        assert page.get_by_role("heading", name="Choose an account").is_visible()
        buttons = page.locator("#places button")
        assert buttons.count() == 2
        _shot(page, "chooser")
        page.locator("#places button", has_text="Bravo Corp").click()
        _at(page, tenant_b.host, "/")
        assert "Bravo Corp" in page.locator("header .brand").inner_text()
        assert page.get_by_role("button", name="Sign out").is_visible()
        # The front page now lists the person's accounts.
        page.goto(f"{base}/")
        assert page.locator("#your-accounts button").count() == 2
        _shot(page, "front-page-signed-in")


def test_sign_in_with_totp_on_the_bare_domain(transactional_db, live_server, tenant_a):
    secret = generate_totp_secret()
    TOTP.activate(tenant_a.member.user, secret)
    base = f"http://localhost:{_port(live_server)}"
    with chromium_page() as page:
        sign_in(page, base, "alpha-member")
        page.wait_for_url(f"{base}/accounts/2fa/authenticate/")
        page.fill("#id_code", pyotp.TOTP(secret).now())
        page.get_by_role("button", name="Sign In").click()
        _at(page, tenant_a.host, "/")  # no second code on the tenant host
        assert "alpha-member" in page.locator("header").inner_text()


def test_the_switcher_moves_between_two_accounts(transactional_db, live_server, tenant_a, tenant_b):
    add_member(tenant_b.account, "alpha-member")
    port = _port(live_server)
    with chromium_page() as page:
        sign_in(page, f"http://{tenant_a.host}:{port}", "alpha-member")  # on the tenant host
        _at(page, tenant_a.host, "/")
        page.locator("#account-menu summary").click()
        menu = page.locator("#account-menu .menu")
        assert menu.is_visible()
        assert menu.get_by_role("link", name="Sign in to another account").is_visible()
        assert menu.locator("button").count() == 1  # the other account only
        _shot(page, "switcher-open")
        menu.get_by_role("button", name=re.compile("Bravo Corp")).click()
        _at(page, tenant_b.host, "/")
        assert "Bravo Corp" in page.locator("header .brand").inner_text()
        assert "alpha-member" in page.locator("header").inner_text()
        page.locator("#account-menu summary").click()  # and back
        page.locator("#account-menu .menu").get_by_role("button", name=re.compile("Alpha Corp")).click()
        _at(page, tenant_a.host, "/")
        assert "Alpha Corp" in page.locator("header .brand").inner_text()
        assert page.get_by_role("button", name="Sign out").is_visible()


def test_refused_cases(transactional_db, live_server, tenant_a, tenant_b, make_tenant):
    """An inactive membership and a closed account are not offered; a hand-off link, once
    used, signs nobody in when replayed."""
    user = tenant_a.member.user.username
    add_member(tenant_b.account, user)
    off = make_tenant("charlie")
    profile, _ = add_member(off.account, user)
    UserProfile.objects.filter(pk=profile.pk).update(is_active=False)
    closed = make_tenant("delta")
    add_member(closed.account, user)
    Account.objects.filter(pk=closed.account.pk).update(is_active=False)
    base = f"http://localhost:{_port(live_server)}"
    handoffs: list[str] = []
    with chromium_page() as page:
        page.on("request", lambda r: handoffs.append(r.url) if "/accounts/handoff/" in r.url else None)
        sign_in(page, base, user)
        page.wait_for_url(f"{base}/accounts/choose/")
        names = page.locator("#places").inner_text()
        assert "Alpha Corp" in names and "Bravo Corp" in names
        assert "Charlie Corp" not in names and "Delta Corp" not in names
        page.locator("#places button", has_text="Alpha Corp").click()
        _at(page, tenant_a.host, "/")
        assert len(handoffs) == 1
        page.context.clear_cookies()
        replay = page.goto(handoffs[0])
        assert replay is not None and replay.status == 404
        assert page.get_by_role("link", name="Sign in").is_visible()  # nobody signed in
        _shot(page, "replayed-handoff")
