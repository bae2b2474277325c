"""End to end in headless Chromium: an account admin reads the audit log, requests an export
and closes the account; its host answers 404 right after."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core import mail

from accounts.models import Account
from audit.models import AuditEvent
from lifecycle.models import DataExport
from tests.conftest import PASSWORD
from tests.test_browser import ARTIFACTS, chromium_page
from workspaces.models import Workspace


@pytest.mark.browser
def test_admin_audits_exports_and_closes_the_account(transactional_db, live_server, tenant_a, tenant_b,
                                                    settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    Workspace.objects.create(user_profile=tenant_a.admin, name="alpha-visible-ws")
    Workspace.objects.create(user_profile=tenant_b.admin, name="bravo-hidden-ws")
    port = urlsplit(live_server.url).port
    base = f"http://{tenant_a.host}:{port}"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "e2e-audit-log.png"
    shot.unlink(missing_ok=True)
    with chromium_page() as page:
        _flow(page, base, tenant_a.admin.user.username, tenant_a.account.account_number, shot)
    assert shot.exists() and shot.stat().st_size > 10_000
    assert DataExport.objects.get(account=tenant_a.account).status == DataExport.READY
    assert any("/console/exports/" in m.body for m in mail.outbox)
    account = Account.objects.get(pk=tenant_a.account.pk)
    assert not account.is_active and account.closed_at is not None
    assert AuditEvent.objects.filter(account=account, action="closed", source="console").count() == 1


def _flow(page: Any, base: str, username: str, number: str, shot: Any) -> None:
    page.goto(f"{base}/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/")

    page.goto(f"{base}/console/")
    sidebar = page.get_by_role("navigation", name="Console")
    sidebar.get_by_role("link", name="Audit log").click()
    page.wait_for_url(f"{base}/console/audit/")
    table = page.locator("table#audit-events")
    assert "alpha-visible-ws" in table.inner_text()
    assert "bravo-hidden-ws" not in page.content()
    page.locator("#audit-filter select[name=target_kind]").select_option("workspaces.workspace")
    page.locator("#audit-filter").get_by_role("button", name="Filter").click()
    page.wait_for_url("**/console/audit/?**")
    rows = table.locator("tbody tr")
    assert rows.count() == 1 and "alpha-visible-ws" in rows.first.inner_text()
    page.screenshot(path=str(shot), full_page=True)

    sidebar.get_by_role("link", name="Export").click()
    page.wait_for_url(f"{base}/console/exports/")
    page.locator("form#request-export").get_by_role("button", name="Request an export").click()
    page.wait_for_url(f"{base}/console/exports/")
    assert "Export requested" in page.locator(".messages").inner_text()
    assert "ready" in page.locator("table#exports").inner_text()

    sidebar.get_by_role("link", name="Close account").click()
    page.wait_for_url(f"{base}/console/close/")
    form = page.locator("form#close-account")
    form.locator("input[name=confirm]").fill("0000-0000-0000")
    form.locator("input[name=password]").fill(PASSWORD)
    form.get_by_role("button", name="Close the account").click()
    assert "not the number of this account" in page.content()
    form = page.locator("form#close-account")
    form.locator("input[name=confirm]").fill(number)
    form.locator("input[name=password]").fill(PASSWORD)
    form.get_by_role("button", name="Close the account").click()
    assert page.get_by_role("heading", name="Alpha Corp is closed").is_visible()
    response = page.goto(f"{base}/")
    assert response is not None and response.status == 404
