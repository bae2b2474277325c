"""End to end in headless Chromium against a live server: an account admin invites a member, and
every page the browser opens runs under the Content-Security-Policy without one violation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from accounts.models import Invitation, UserProfile
from tests.conftest import PASSWORD
from workspaces.models import Workspace

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
    "--host-resolver-rules=MAP *.localhost 127.0.0.1, MAP *.test 127.0.0.1",  # .test: custom domains
]


# Reports every CSP violation of every document (frames included) to the console; Playwright
# injects it before the page's own scripts, outside the page's policy.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || "inline"}`
                + ` at ${e.sourceFile}:${e.lineNumber} on ${document.location.href}`);
});
"""
POLICY_WORDS = ("CSP violation", "Content Security Policy", "Permissions-Policy", "Permissions policy")


class PolicyRecorder:
    """Console lines about CSP or Permissions-Policy, and uncaught page errors."""

    def __init__(self, page: Any) -> None:
        self.violations: list[str] = []
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"{page.url}: {exc}"))

    def _console(self, message: Any) -> None:
        if any(word in message.text for word in POLICY_WORDS):
            self.violations.append(message.text)

    def assert_clean(self) -> None:
        assert self.violations == [], "\n".join(self.violations)
        assert self.errors == [], self.errors


@contextmanager
def chromium_page() -> Iterator[Any]:
    """A page in headless Chromium whose ``page.policy`` records CSP violations (none may be
    left when the block ends). Playwright's
    sync API runs an event loop in this thread, so the test touches the database only before
    and after this block."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1200, "height": 900})
        context.set_default_timeout(10_000)
        context.add_init_script(REPORT_VIOLATIONS)
        try:
            page = context.new_page()
            page.policy = PolicyRecorder(page)
            yield page
            page.policy.assert_clean()  # every browser test: no CSP/Permissions-Policy report
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
        page.policy.assert_clean()
    assert shot.exists() and shot.stat().st_size > 10_000
    assert Invitation.objects.filter(account=tenant_a.account, role="member",
                                     email="carol@alpha.test").exists()
    assert not UserProfile.objects.filter(account=tenant_a.account, user__email="carol@alpha.test").exists()


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
    form.locator("select[name=role]").select_option("member")
    form.get_by_role("button", name="Invite").click()
    page.wait_for_url(f"{base}/console/members/")

    assert "Invitation sent to carol@alpha.test." in page.locator(".messages").inner_text()
    page.screenshot(path=str(shot), full_page=True)


def _open(page: Any, url: str, expect: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == expect, (url, response and response.status)
    assert "default-src 'self'" in response.headers["content-security-policy"], url
    assert "camera=()" in response.headers["permissions-policy"], url
    page.wait_for_load_state("load")


@pytest.mark.browser
def test_every_page_runs_under_the_csp_without_violations(transactional_db, live_server, tenant_a):
    space = Workspace.objects.create(user_profile=tenant_a.admin, name="team", is_public=True)
    port = urlsplit(live_server.url).port
    platform_base = f"http://localhost:{port}"
    base = f"http://{tenant_a.host}:{port}"
    username, profile_pk = tenant_a.admin.user.username, tenant_a.member.pk
    with chromium_page() as page:
        policy = page.policy
        # The probe works: an inline script and an inline style are reported as violations.
        _open(page, f"{base}/login/")
        page.evaluate("""() => {
            const s = document.createElement("script"); s.textContent = "window.ran = 1";
            document.body.appendChild(s);
            const d = document.createElement("div"); d.setAttribute("style", "color: red");
            document.body.appendChild(d);
        }""")
        page.wait_for_timeout(200)
        assert any("script-src" in v for v in policy.violations), policy.violations
        assert any("style-src" in v for v in policy.violations), policy.violations
        assert page.evaluate("() => window.ran") is None  # and the inline script did not run
        policy.violations.clear()

        for url in [f"{platform_base}/", f"{base}/", f"http://{tenant_a.workspace_host('team')}:{port}/",
                    f"{base}/admin/login/"]:
            _open(page, url)
        _open(page, f"{base}/no-such-page/", expect=404)
        _open(page, f"{base}/login/")
        page.fill("#id_login", username)
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/")
        for path in ["/console/", "/console/account/", "/console/members/", "/console/contacts/",
                     "/console/workspaces/", f"/console/workspaces/{space.pk}/", "/console/api-keys/",
                     "/admin/", "/admin/accounts/userprofile/",
                     f"/admin/accounts/userprofile/{profile_pk}/change/",
                     "/admin/accounts/accountcontact/add/", "/admin/workspaces/workspace/",
                     f"/admin/workspaces/workspace/{space.pk}/change/", "/admin/accounts/apikey/"]:
            _open(page, f"{base}{path}")
        # The admin's own scripts run (its collapsible filter and actions need them); members
        # have no bulk action (a removal goes through the member actions one by one): contacts.
        _open(page, f"{base}/admin/accounts/accountcontact/")
        rows = page.locator("#result_list tbody tr").count()
        assert rows >= 2
        page.locator("#action-toggle").check()
        assert page.locator(".action-counter").inner_text().startswith(f"{rows} of {rows} selected")

        # Swagger UI from the sidecar's static files renders the schema's operations.
        for docs_base in [base, platform_base.replace("localhost", "alpha.api.localhost")]:
            _open(page, f"{docs_base}/api/v1/docs/")
            page.locator(".opblock").first.wait_for()
            assert page.locator(".opblock").count() >= 10
            assert "Smarter account API" in page.locator(".info .title").inner_text()
        policy.assert_clean()
