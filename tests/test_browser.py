"""End to end in headless Chromium against a live server: an account admin adds a member."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from accounts.models import UserProfile
from tests.conftest import PASSWORD
from workspaces.models import Workspace

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--host-resolver-rules=MAP *.localhost 127.0.0.1",
]


@contextmanager
def chromium_page() -> Iterator[Any]:
    """A page in headless Chromium. Playwright's sync API runs an event loop in this thread,
    so the test touches the database only before and after this block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.set_default_timeout(10_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


@pytest.mark.browser
def test_admin_adds_a_member_in_the_console(transactional_db, live_server, tenant_a):
    Workspace.objects.create(user_profile=tenant_a.admin, name="team", description="Team space")
    port = urlsplit(live_server.url).port
    base = f"http://{tenant_a.workspace_host('team')}:{port}"
    username, company = tenant_a.admin.user.username, tenant_a.account.company_name
    shot = ARTIFACTS / "e2e-members.png"
    ARTIFACTS.mkdir(exist_ok=True)
    shot.unlink(missing_ok=True)
    with chromium_page() as page:
        _add_member_flow(page, base, username, company, shot)
    assert shot.exists() and shot.stat().st_size > 10_000
    assert UserProfile.objects.filter(account=tenant_a.account, role="member",
                                      user__username="carol@alpha.test").exists()


def _add_member_flow(page: Any, base: str, username: str, company: str, shot: Path) -> None:

    # The private workspace sends a stranger to this tenant's sign-in page.
    page.goto(f"{base}/")
    assert "/login/" in page.url
    assert page.get_by_role("heading", name=f"Sign in to {company}").is_visible()
    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")
    assert page.get_by_role("heading", name="Workspace team").is_visible()

    page.get_by_role("link", name="Console").click()
    page.wait_for_url(f"{base}/console/")
    page.get_by_role("link", name="Members", exact=True).click()
    page.wait_for_url(f"{base}/console/members/")

    form = page.locator("form#add-member")
    form.locator("input[name=email]").fill("carol@alpha.test")
    form.locator("input[name=first_name]").fill("Carol")
    form.locator("select[name=role]").select_option("member")
    form.get_by_role("button", name="Add member").click()
    page.wait_for_url(f"{base}/console/members/")

    row = page.locator('tr[data-member="carol@alpha.test"]')
    assert row.is_visible()
    assert "carol@alpha.test added." in page.locator(".messages").inner_text()
    page.screenshot(path=str(shot), full_page=True)
