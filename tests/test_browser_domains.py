"""End to end in headless Chromium: an admin adds a custom domain, publishes the records the
page shows (on a DNS server on loopback), verifies it, opens it and makes it canonical."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest

from domains.models import Domain
from tests.conftest import PASSWORD
from tests.support.dns_server import Zone, dns_zone  # noqa: F401 - fixture
from tests.test_browser import ARTIFACTS, chromium_page

HOST = "www.alpha-corp.test"


@pytest.mark.browser
def test_admin_brings_a_custom_domain(transactional_db, live_server, tenant_a, dns_zone):  # noqa: F811
    port = urlsplit(live_server.url).port
    number_host = f"http://{tenant_a.host}:{port}"
    shot = ARTIFACTS / "e2e-domains.png"
    ARTIFACTS.mkdir(exist_ok=True)
    shot.unlink(missing_ok=True)
    with chromium_page() as page:
        _domain_flow(page, number_host, f"http://{HOST}:{port}", tenant_a, dns_zone, shot)
    assert shot.exists() and shot.stat().st_size > 10_000
    domain = Domain.objects.get(hostname=HOST)
    assert (domain.account_id, domain.status, domain.is_canonical) == (tenant_a.account.pk, "verified", True)


def _domain_flow(page: Any, number_host: str, custom: str, tenant: Any, zone: Zone, shot: Any) -> None:
    page.goto(f"{number_host}/login/?next=/console/domains/")
    page.fill("#id_login", tenant.admin.user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{number_host}/console/domains/")

    page.fill("#id_hostname", HOST.upper())
    page.get_by_role("button", name="Add domain").click()
    page.wait_for_url(f"{number_host}/console/domains/")
    card = page.locator(".domain", has_text=HOST)
    assert "Pending" in card.inner_text()
    records = card.locator("table.dns-records tbody tr")
    assert records.count() == 2
    txt_name, token = (records.nth(1).locator("td").nth(i).inner_text() for i in (1, 2))
    assert txt_name == f"_smarter-challenge.{HOST}" and token.startswith("smarter-verify-")
    assert records.nth(0).locator("td").nth(2).inner_text() == "alpha.api.localhost"

    # Not served before the DNS proves control.
    response = page.goto(f"{custom}/")
    assert response.status == 404
    page.goto(f"{number_host}/console/domains/")

    zone.set(txt_name, "TXT", token)  # what the customer does at their DNS provider
    zone.set(HOST, "CNAME", "alpha.api.localhost")
    card.get_by_role("button", name="Verify now").click()
    page.wait_for_url(f"{number_host}/console/domains/")
    assert f"{HOST} is verified and served." in page.locator(".messages").inner_text()
    assert "Verified" in card.inner_text()
    card.get_by_role("button", name="Make canonical").click()
    page.wait_for_url(f"{number_host}/console/domains/")
    assert "canonical" in card.inner_text()
    page.screenshot(path=str(shot), full_page=True)

    # The number host's pages now redirect to the domain, which serves this account.
    page.goto(f"{number_host}/")
    page.wait_for_url(f"{custom}/")
    assert tenant.account.company_name in page.locator("header .brand").inner_text()
    # A session there is the domain's own: sign in on it, host-only, and reach the console.
    page.goto(f"{custom}/login/?next=/console/")
    page.fill("#id_login", tenant.admin.user.username)
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{custom}/console/")
    cookies = {c["name"]: c for c in page.context.cookies(f"{custom}/")}
    assert cookies["sessionid"]["domain"] == HOST  # host-only
