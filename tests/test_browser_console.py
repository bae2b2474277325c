"""The console in headless Chromium (issue 24): every page at 1280 px and 375 px under the strict
CSP with JavaScript off, the sidebar marking the current page (above the content on a phone,
without horizontal scroll), the confirmations before removing a member and revoking, the audit
log's sentences, the export's download button; a screenshot of each page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.utils import timezone

from accounts.models import Invitation, UserProfile
from domains.models import Domain
from tests.support.api_support import make_key
from tests.support.browser_support import sign_in
from workspaces.models import Workspace

from .test_browser import CHROMIUM_ARGS, PolicyRecorder

SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots"
PAGES = {
    "overview": "/console/", "members": "/console/members/", "member": "/console/members/{member}/",
    "member-remove": "/console/members/{member}/remove/", "invitations": "/console/invitations/",
    "invitation-revoke": "/console/invitations/{invitation}/revoke/",
    "account": "/console/account/", "contacts": "/console/contacts/",
    "workspaces": "/console/workspaces/", "domains": "/console/domains/",
    "security": "/console/security/", "api-keys": "/console/api-keys/",
    "api-key-revoke": "/console/api-keys/{key}/revoke/", "audit": "/console/audit/",
    "exports": "/console/exports/", "close": "/console/close/",
}
WIDTHS = (1280, 375)


def _seed(tenant: Any) -> dict[str, int]:
    tenant.member.user.first_name, tenant.member.user.last_name = "Bob", "Builder"
    tenant.member.user.save()
    Workspace.objects.create(user_profile=tenant.admin, name="team", description="Team space")
    Domain.objects.create(user_profile=tenant.admin, hostname="app.alpha-corp.test")
    key, _ = make_key(tenant.admin, name="deploy bot")
    invitation = Invitation.objects.create(
        account=tenant.account, email="carol@alpha.test", role="member", token_hash="x" * 64,
        invited_by=tenant.admin, expires_at=timezone.now() + timedelta(days=7))
    return {"member": tenant.member.pk, "invitation": invitation.pk, "key": key.pk}


@contextmanager
def admin_pages(base: str, username: str, widths: tuple[int, ...]) -> Iterator[Iterator[Any]]:
    """Chromium without JavaScript; yields, per width, a page signed in as ``username`` (no
    CSP or Permissions-Policy report may be left when its turn ends)."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)

        def pages() -> Iterator[Any]:
            for width in widths:
                context = browser.new_context(viewport={"width": width, "height": 900},
                                              java_script_enabled=False)
                context.set_default_timeout(15_000)
                try:
                    page = context.new_page()
                    policy = PolicyRecorder(page)
                    sign_in(page, base, username, then="/")
                    yield page
                    policy.assert_clean()
                finally:
                    context.close()

        try:
            yield pages()
        finally:
            browser.close()


def _no_horizontal_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url}: {width}px wide"


@pytest.mark.browser
def test_every_console_page_at_desktop_and_phone_width(transactional_db, live_server, tenant_a):
    ids = _seed(tenant_a)
    base = f"http://{tenant_a.host}:{urlsplit(live_server.url).port}"
    with admin_pages(base, tenant_a.admin.user.username, WIDTHS) as pages:
        for width, page in zip(WIDTHS, pages, strict=True):
            for name, path in PAGES.items():
                url = base + path.format(**ids)
                response = page.goto(url)
                assert response is not None and response.status == 200, url
                nav = page.get_by_role("navigation", name="Console")
                assert nav.is_visible()
                assert nav.locator("a[aria-current=page]").count() == 1, name
                if width == 375:  # the sidebar is a list above the content
                    nav_box, h1_box = nav.bounding_box(), page.locator("main h1").first.bounding_box()
                    assert nav_box["y"] + nav_box["height"] <= h1_box["y"] + 1, name
                    _no_horizontal_scroll(page)
                page.screenshot(path=str(SHOTS / f"console-{name}-{width}.png"), full_page=True)
    for name in PAGES:
        for width in WIDTHS:
            assert (SHOTS / f"console-{name}-{width}.png").stat().st_size > 5_000


@pytest.mark.browser
def test_admin_searches_removes_after_confirming_and_reads_the_log(transactional_db, live_server, tenant_a):
    ids = _seed(tenant_a)
    base = f"http://{tenant_a.host}:{urlsplit(live_server.url).port}"
    with admin_pages(base, tenant_a.admin.user.username, (1280,)) as pages:
        for page in pages:
            page.goto(f"{base}/console/")
            page.get_by_role("navigation", name="Console").get_by_role("link", name="Members").click()
            page.fill("#member-q", "builder")
            page.get_by_role("button", name="Search").click()
            assert "q=builder" in page.url
            rows = page.locator("#members tbody tr")
            assert rows.count() == 1 and "Bob Builder" in rows.first.inner_text()
            rows.first.get_by_role("link", name="Bob Builder").click()
            page.wait_for_url(f"{base}/console/members/{ids['member']}/")
            page.get_by_role("link", name="Remove alpha-member…").click()
            page.wait_for_url(f"{base}/console/members/{ids['member']}/remove/")
            assert page.get_by_role("heading", name="Remove Bob Builder from the account?").is_visible()
            page.screenshot(path=str(SHOTS / "console-flow-confirm-remove.png"), full_page=True)
            page.get_by_role("button", name="Remove alpha-member").click()
            page.wait_for_url(f"{base}/console/members/")
            assert "alpha-member removed from the account." in page.locator(".messages").inner_text()

            page.get_by_role("link", name="Audit log").click()
            log = page.locator("#audit-events").inner_text()
            assert "alpha-admin removed alpha-member from the account." in log
            page.locator("details.changes summary").first.click()
            page.select_option("#id_target_kind", "accounts.userprofile")
            page.get_by_role("button", name="Filter").click()
            assert "target_kind=accounts.userprofile" in page.url
            page.screenshot(path=str(SHOTS / "console-flow-audit-filtered.png"), full_page=True)

            page.goto(f"{base}/console/audit/?since=2026-12-05&until=2026-12-01")
            assert "is before “From”" in page.locator("#audit-filter").inner_text()
            page.screenshot(path=str(SHOTS / "console-flow-audit-bad-dates.png"), full_page=True)

            page.get_by_role("link", name="Export").click()
            page.get_by_role("button", name="Request an export").click()
            page.wait_for_url(f"{base}/console/exports/")
            with page.expect_download() as download:
                page.locator("#exports").get_by_role("link", name="Download").first.click()
            assert download.value.suggested_filename.endswith(".zip")
            page.screenshot(path=str(SHOTS / "console-flow-export-ready.png"), full_page=True)
    assert not UserProfile.objects.filter(pk=ids["member"]).exists()
