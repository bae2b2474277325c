"""End to end in headless Chromium: a platform superuser clones an account from its Data
export page and opens the copy; the copy shows the original's workspaces."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from accounts.models import Account
from tenancy.hosts import tenant_host
from tests.conftest import PASSWORD
from tests.test_browser import ARTIFACTS, chromium_page
from workspaces.models import Workspace


@pytest.mark.browser
def test_superuser_clones_an_account_in_the_console(transactional_db, live_server, platform, tenant_a):
    Workspace.objects.create(user_profile=tenant_a.admin, name="alpha-cloned-ws")
    port = urlsplit(live_server.url).port
    base = f"http://{tenant_a.host}:{port}"
    shot = ARTIFACTS / "e2e-clone.png"
    ARTIFACTS.mkdir(exist_ok=True)
    before = set(Account.objects.values_list("pk", flat=True))
    shot.unlink(missing_ok=True)  # the screenshot must be this run's
    with chromium_page() as page:
        page.goto(f"{base}/login/")
        page.fill("#id_login", platform.admin.user.username)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/console/exports/")
        page.locator("form#clone-account").get_by_role("button", name="Clone this account").click()
        page.wait_for_url(f"{base}/console/exports/")
        assert "Clone requested" in page.locator(".messages").inner_text()
        link = page.locator("table#clones a")
        number, href = link.inner_text(), link.get_attribute("href")
        page.screenshot(path=str(shot), full_page=True)
    assert shot.exists() and shot.stat().st_size > 10_000
    [clone] = Account.objects.exclude(pk__in=before)  # the ORM outside Playwright's event loop
    assert number == clone.account_number
    assert href == f"http://{tenant_host(clone.account_number)}:{port}/"
    assert Workspace.objects.filter(account=clone, name="alpha-cloned-ws").exists()
