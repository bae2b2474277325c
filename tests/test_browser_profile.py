"""Issue 24 items 5 and 6 in Chromium: a member of two accounts, signed in on both hosts, names
themself on the profile page, sees both sessions, signs out everywhere else (the other host's
session ends), and opens a private workspace page that lists the people who can see it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User

from accounts.provisioning import add_member
from tests.support.browser_support import sign_in
from tests.test_browser import CHROMIUM_ARGS, REPORT_VIOLATIONS, PolicyRecorder
from workspaces.models import Workspace

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"


@pytest.mark.browser
def test_profile_and_sign_out_everywhere_else(transactional_db, live_server, tenant_a, tenant_b):
    add_member(tenant_b.account, "alpha-member")
    Workspace.objects.create(user_profile=tenant_a.admin, name="board", description="Board papers.")
    port = urlsplit(live_server.url).port
    base_a, base_b = f"http://{tenant_a.host}:{port}", f"http://{tenant_b.host}:{port}"
    board = f"http://{tenant_a.workspace_host('board')}:{port}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            laptop = browser.new_context(viewport={"width": 1280, "height": 900})
            phone = browser.new_context(viewport={"width": 375, "height": 800})
            for context in (laptop, phone):
                context.set_default_timeout(10_000)
                context.add_init_script(REPORT_VIOLATIONS)
            on_a, on_b = laptop.new_page(), phone.new_page()
            policies = [PolicyRecorder(on_a), PolicyRecorder(on_b)]
            sign_in(on_a, base_a, "alpha-member", then="/")
            sign_in(on_b, base_b, "alpha-member", then="/")

            on_a.goto(f"{base_a}/accounts/profile/")
            assert on_a.get_by_role("heading", name="Your profile").is_visible()
            on_a.get_by_label("First name").fill("Ada")
            on_a.get_by_label("Last name").fill("Lovelace")
            on_a.get_by_role("button", name="Save name").click()
            on_a.wait_for_url(f"{base_a}/accounts/profile/")
            assert "Your name is saved." in on_a.locator(".messages").inner_text()
            sessions = on_a.locator("#sessions").inner_text()
            assert tenant_a.host in sessions and tenant_b.host in sessions and "This browser" in sessions
            assert on_a.locator("#mfa-status").inner_text().startswith("Off")
            on_a.screenshot(path=str(SHOTS / "profile-1280.png"), full_page=True)

            on_b.goto(f"{base_b}/accounts/profile/")  # the same page on the other host, on a phone
            assert on_b.get_by_role("heading", name="Your profile").is_visible()
            assert on_b.evaluate("() => document.documentElement.scrollWidth <= innerWidth")
            on_b.screenshot(path=str(SHOTS / "profile-375.png"), full_page=True)

            on_a.get_by_role("button", name="Sign out everywhere else").click()
            on_a.wait_for_url(f"{base_a}/accounts/profile/")
            assert "signed out everywhere else" in on_a.locator(".messages").inner_text()
            assert tenant_b.host not in on_a.locator("#sessions").inner_text()

            on_b.goto(f"{base_b}/accounts/profile/")  # that session ended: back to sign-in
            assert "/login/" in on_b.url

            on_a.goto(f"{board}/")  # the workspace host: a session of its own
            assert "/login/" in on_a.url
            sign_in(on_a, board, "alpha-member", then="/")
            assert on_a.get_by_role("heading", name="Workspace board").is_visible()
            assert "only its members can see it" in on_a.locator("#workspace-audience").inner_text()
            people = on_a.locator("#workspace-members").inner_text()
            assert "Ada Lovelace" in people and "alpha-admin" in people
            assert on_a.locator("#workspace-content").is_visible()
            on_a.screenshot(path=str(SHOTS / "workspace-private-1280.png"), full_page=True)
            for policy in policies:
                policy.assert_clean()
        finally:
            browser.close()
    assert User.objects.get(username="alpha-member").get_full_name() == "Ada Lovelace"
    for name in ("profile-1280.png", "profile-375.png", "workspace-private-1280.png"):
        assert (SHOTS / name).stat().st_size > 10_000
