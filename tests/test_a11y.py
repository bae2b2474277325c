"""Accessibility of every page (issue 24): axe-core, from the npm registry (tests/a11y/, installed
by ``scripts/test``), injected by Playwright into headless Chromium.

The walker finds the pages itself, like tests/test_isolation.py finds URLs: it walks every
pattern of the platform and tenant URLconfs, fills path parameters with the tenant's own ids
(so detail pages render), and keeps each path that answers a GET with an HTML page, for each
of anonymous, a member and an account admin (the platform's superuser on the bare domain).
A page another app adds later is covered without touching this file. Then, in Chromium, each
page at 1280 px and at 375 px wide must have no serious or critical axe violation, and at
375 px no horizontal scroll. Screenshots go to test-artifacts/screenshots/a11y/.

Left out, by prefix: ``api/`` (JSON, and Swagger UI's own third-party page), ``admin/`` (Django's
admin templates), ``healthz`` and ``metrics`` (not pages).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test import Client
from django.urls import get_resolver

from accounts.models import AccountContact, ApiKey, Invitation
from lifecycle.models import DataExport
from tests.support.domain_support import verified_domain
from tests.test_browser import CHROMIUM_ARGS
from tests.test_isolation import _b_ids, _walk, expand
from workspaces.models import Workspace

AXE = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screenshots" / "a11y"
URLCONFS = {"platform": "smarter.urls.platform", "tenant": "smarter.urls.tenant"}
SKIPPED_PREFIXES = ("api/", "admin/", "healthz", "metrics")
WIDTHS = (1280, 375)
BLOCKING = ("serious", "critical")


@dataclass(frozen=True)
class Visit:
    """One page as one person sees it."""

    host: str
    kind: str  # platform / tenant / workspace
    role: str
    path: str
    status: int = 200


def page_routes(kind: str) -> list[tuple[str, str]]:
    """Every pattern of a host kind's URLconf that may be a page."""
    return [(route, name) for route, name in _walk(get_resolver(URLCONFS[kind]).url_patterns)
            if not route.startswith(SKIPPED_PREFIXES)]


def discover(host: str, kind: str, role: str, client: Client, ids: dict[str, list[int]]) -> list[Visit]:
    """The paths that answer this person's GET with an HTML page (every id a pattern takes:
    the first that renders is enough, one page per pattern)."""
    visits: list[Visit] = []
    for route, name in page_routes("tenant" if kind == "workspace" else kind):
        for path in expand(route, name, ids):
            response = client.get(path)
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                visits.append(Visit(host, kind, role, path))
                break
    visits.append(Visit(host, kind, role, "/no-such-page/", 404))  # the error page too
    return visits


def _seed(tenant: Any) -> dict[str, list[int]]:
    """A tenant with one of everything its pages show, and the ids that fill their URLs."""
    Workspace.objects.create(user_profile=tenant.admin, name="team", is_public=True,
                             description="Where the whole team meets.")
    Workspace.objects.create(user_profile=tenant.admin, name="board", description="Board papers.")
    AccountContact.objects.create(account=tenant.account, email="finance@alpha.test", first_name="Fin")
    Invitation.issue(tenant.account, "invitee@alpha.test", "member", tenant.admin)
    ApiKey.create(tenant.admin, name="Billing sync")
    verified_domain(tenant.admin, "app.alpha-a11y.test")
    DataExport.objects.create(account=tenant.account, requested_by=tenant.admin)
    tenant.tokens = []
    return _b_ids(tenant)


def _signed_in(host: str, user: Any) -> Client:
    client = Client(HTTP_HOST=host)
    if user is not None:
        client.force_login(user)
        assert client.get("/").status_code in (200, 302)  # binds the session to this host
    return client


def _slug(visit: Visit, width: int) -> str:
    path = re.sub(r"[^a-z0-9]+", "-", visit.path.lower()).strip("-") or "home"
    return f"{visit.kind}-{visit.role}-{path}-{width}.jpg"


def audit_page(page: Any, url: str, visit: Visit, axe_source: str) -> list[str]:
    """Load the page, run axe at each width, check the 375 px layout; the problems found."""
    problems: list[str] = []
    where = f"{visit.role} on {visit.kind} {visit.path}"
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})
    response = page.goto(url)
    if response is None or response.status != visit.status:
        return [f"{where}: HTTP {response and response.status}, expected {visit.status}"]
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(axe_source)  # devtools evaluation: outside the page's CSP
        result = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']}))"
                               ".violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
                               " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))")
        for v in result:
            if v["impact"] in BLOCKING:
                problems.append(f"{where} at {width}px: {v['impact']} {v['id']} ({v['help']}) "
                                f"at {v['nodes']}")
        if width == 375:
            overflow = page.evaluate("() => [document.documentElement.scrollWidth,"
                                     " document.documentElement.clientWidth]")
            if overflow[0] > overflow[1] + 1:
                wide = page.evaluate("""() => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
                    .slice(0, 3).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                                          + (e.className && typeof e.className === 'string'
                                             ? '.' + e.className.split(' ').join('.') : ''))""")
                problems.append(f"{where} at 375px: scrolls sideways ({overflow[0]}px wide; {wide})")
        page.screenshot(path=str(SHOTS / _slug(visit, width)), full_page=width == 375,
                        type="jpeg", quality=70)
    return problems


@pytest.mark.browser
def test_every_page_has_no_serious_axe_violation_and_fits_375px(
        transactional_db, live_server, platform, tenant_a) -> None:  # type: ignore[no-untyped-def]
    assert AXE.exists(), "axe-core is missing: run scripts/install-system a11y (scripts/test does)"
    axe_source = AXE.read_text()
    ids = _seed(tenant_a)
    hosts = {
        "platform": (settings.ROOT_DOMAIN, {"anonymous": None, "member": platform.member.user,
                                            "admin": platform.admin.user}),
        "tenant": (tenant_a.host, {"anonymous": None, "member": tenant_a.member.user,
                                   "admin": tenant_a.admin.user}),
    }
    visits: list[Visit] = []
    cookies: dict[tuple[str, str], str] = {}
    for kind, (host, people) in hosts.items():
        for role, user in people.items():
            client = _signed_in(host, user)
            visits += discover(host, kind, role, client, ids)
            if user is not None:
                cookies[(host, role)] = client.cookies[settings.SESSION_COOKIE_NAME].value
        # the workspace host's own page, as each person sees it
        workspace_host = tenant_a.workspace_host("team") if kind == "tenant" else None
        if workspace_host:
            for role, user in people.items():
                client = _signed_in(workspace_host, user)
                visits.append(Visit(workspace_host, "workspace", role, "/"))
                if user is not None:
                    cookies[(workspace_host, role)] = client.cookies[settings.SESSION_COOKIE_NAME].value
    paths = {v.path for v in visits}
    assert {"/", "/login/", "/accounts/profile/", "/console/", "/console/members/"} <= paths, paths
    assert len(visits) > 60, len(visits)
    only = os.environ.get("A11Y_ONLY")  # a regex of paths, to re-check a few pages while fixing them
    if only:
        visits = [v for v in visits if re.search(only, v.path)]

    SHOTS.mkdir(parents=True, exist_ok=True)
    port = urlsplit(live_server.url).port
    problems: list[str] = []
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            for (host, role) in sorted({(v.host, v.role) for v in visits}):
                context = browser.new_context()
                context.set_default_timeout(15_000)
                if (host, role) in cookies:
                    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME,
                                          "value": cookies[(host, role)], "url": f"http://{host}:{port}/"}])
                page = context.new_page()
                for visit in (v for v in visits if (v.host, v.role) == (host, role)):
                    problems += audit_page(page, f"http://{host}:{port}{visit.path}", visit, axe_source)
                context.close()
        finally:
            browser.close()
    assert problems == [], f"{len(problems)} problems:\n" + "\n".join(problems)
