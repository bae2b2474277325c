"""SAML sign-in in headless Chromium through an identity provider that is not this project's code:
``samlify`` (npm, pinned by tests/saml_samlify/package-lock.json, installed by
``scripts/install-system a11y``) run by Node on loopback (tests/saml_samlify/idp.js), with a key
and certificate made by the test. The account admin adds the IdP by its metadata URL in the
console; the saved provider is disabled and cannot be enabled before the admin's test sign-in
(through the IdP, signing nobody in) succeeded; then a person signs in through it and lands in
the account, their IdP group making them admin. The IdP then answers as Google Workspace does by
default (the NameID carries the address, no AttributeStatement) and the next person signs in
too."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model

from accounts.models import UserProfile
from audit.models import AuditEvent
from identity.sso.models import IdentityProvider, provider_slug
from tests.support.browser_support import node_server, sign_in
from tests.support.sso_support import KeyPair, make_key_pair, verify_email_domain
from tests.test_browser import ARTIFACTS, chromium_page
from tests.test_browser_sso import _free_port

pytestmark = [pytest.mark.browser]
SAMLIFY = Path(__file__).resolve().parent / "saml_samlify"
FRANK, GRACE = "frank@alpha.test", "grace@alpha.test"


@contextmanager
def samlify_idp(port: int, keys: KeyPair, sp_entity_id: str, acs_url: str,
                person: dict[str, Any]) -> Iterator[str]:
    """samlify's IdP on 127.0.0.1:<port> answering for ``person``; yields its metadata URL."""
    assert (SAMLIFY / "node_modules" / "samlify").is_dir(), "run scripts/install-system a11y"
    base = f"http://127.0.0.1:{port}"
    config = {"port": port, "entity_id": f"{base}/metadata", "key_pem": keys.key_pem,
              "cert_pem": keys.cert_pem, "sp_entity_id": sp_entity_id, "acs_url": acs_url,
              "person": person}
    with node_server(SAMLIFY / "idp.js", {"SAML_SAMLIFY": json.dumps(config)}):
        yield f"{base}/metadata"


def console_text(page: Any) -> str:
    return str(page.locator("main").inner_text())


def test_sign_in_through_a_samlify_idp(transactional_db, live_server, tenant_a, settings):
    port = urlsplit(live_server.url).port
    base = f"http://{tenant_a.host}:{port}"
    slug = provider_slug(tenant_a.account.account_number, 1)
    sp_entity_id = f"{base}/accounts/saml/{slug}/metadata/"
    acs_url = f"{base}/accounts/saml/{slug}/acs/"
    verify_email_domain(tenant_a.account, "alpha.test")
    idp_port = _free_port()
    settings.EGRESS_ALLOWED_TEST_ORIGINS = [f"http://127.0.0.1:{idp_port}"]  # this IdP only
    keys = make_key_pair("samlify.idp.test")
    frank = {"email": FRANK, "subject": "samlify-frank", "attributes": True, "groups": ["alpha-admins"]}
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page() as page:
        with samlify_idp(idp_port, keys, sp_entity_id, acs_url, frank) as metadata_url:
            sign_in(page, base, tenant_a.admin.user.username)
            page.goto(f"{base}/console/security/sso/add/saml/")
            page.fill("#id_name", "Samlify IdP")
            page.fill("#id_idp_metadata_url", metadata_url)
            page.fill("#id_admin_group", "alpha-admins")
            page.get_by_role("button", name="Add provider").click()
            page.wait_for_url(f"{base}/console/security/sso/")
            text = console_text(page)
            assert acs_url in text and sp_entity_id in text
            assert "Connection tested" in text and "disabled" in text and "No test sign-in yet" in text
            # Enabling before a test sign-in succeeded is refused.
            page.get_by_role("button", name="Enable").click()
            page.wait_for_url(f"{base}/console/security/sso/")
            assert "Run a test sign-in through it first" in console_text(page)
            page.screenshot(path=str(ARTIFACTS / "e2e-saml-samlify-untested.png"), full_page=True)
            # The test sign-in: through samlify's redirect and auto-posting form, back to the console.
            page.get_by_role("button", name="Test sign-in").click()
            page.get_by_text(re.compile(r"test sign-in (succeeded|failed)")).wait_for()  # after the IdP
            text = console_text(page)
            assert f"test sign-in succeeded as {FRANK}" in text, text
            page.screenshot(path=str(ARTIFACTS / "e2e-saml-samlify-tested.png"), full_page=True)
            page.get_by_role("button", name="Enable").click()
            page.wait_for_url(f"{base}/console/security/sso/")
            assert "Samlify IdP enabled" in console_text(page)
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{base}/")
            # A person signs in through it and lands in the account; the group makes them admin.
            page.goto(f"{base}/login/")
            page.get_by_role("button", name="Sign in with Samlify IdP").click()
            page.wait_for_url(f"{base}/")
            page.goto(f"{base}/console/")
            assert page.url == f"{base}/console/"
            page.screenshot(path=str(ARTIFACTS / "e2e-saml-samlify-signed-in.png"), full_page=True)
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{base}/")
        # Google Workspace's default: the address as NameID (format unspecified), no attributes.
        grace = {"email": GRACE, "attributes": False}
        with samlify_idp(idp_port, keys, sp_entity_id, acs_url, grace):
            page.goto(f"{base}/login/")
            page.get_by_role("button", name="Sign in with Samlify IdP").click()
            page.wait_for_url(f"{base}/")
            assert page.goto(f"{base}/console/").status == 403  # signed in as a member: no console
            page.goto(f"{base}/")
            page.screenshot(path=str(ARTIFACTS / "e2e-saml-samlify-nameid-only.png"), full_page=True)
            assert GRACE in page.locator("body").inner_text()
    provider = IdentityProvider.objects.get(account=tenant_a.account)
    assert provider.enabled and provider.test_signed_in_at is not None
    assert provider.idp_entity_id == f"http://127.0.0.1:{idp_port}/metadata"
    users = get_user_model().objects
    assert UserProfile.objects.get(user=users.get(email=FRANK), account=tenant_a.account).role == "admin"
    assert UserProfile.objects.get(user=users.get(email=GRACE), account=tenant_a.account).role == "member"
    assert AuditEvent.objects.filter(account=tenant_a.account, action="sso.provider_tested").count() == 1
    signed_in = AuditEvent.objects.filter(account=tenant_a.account, action="sso.signed_in", source="sso")
    assert signed_in.count() == 2
