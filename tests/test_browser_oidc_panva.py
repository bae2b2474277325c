"""OIDC sign-in in headless Chromium through a third-party, OpenID Certified provider: panva's
``oidc-provider`` (npm, pinned by tests/oidc_panva/package-lock.json, installed by
``scripts/install-system a11y``) run by Node on loopback with its development sign-in and
consent pages. The admin's issuer typo and an issuer the provider does not publish are form
errors; the saved provider starts disabled and cannot be enabled before the admin's test sign-in
through panva succeeded; the person signs in (nonce, PKCE S256, signed ID token, groups claim
making them admin). Refused through the real provider: an address it marks
``email_verified: false`` (a clear page, nobody created), an ID token whose nonce is not the one
this sign-in sent (the start's redirect is changed on its way to the browser, so panva signs
another nonce), and, after the provider rotated its key (the next sign-in fetches the keys
once and works), a token signed by another key under the known key id."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model

from accounts.models import UserProfile
from audit.models import AuditEvent
from identity.sso.models import IdentityProvider, provider_slug
from tests.support.browser_support import node_server, sign_in
from tests.support.sso_support import verify_email_domain
from tests.test_browser import ARTIFACTS, chromium_page
from tests.test_browser_sso import _free_port

pytestmark = [pytest.mark.browser]
PANVA = Path(__file__).resolve().parent / "oidc_panva"
CLIENT_ID, CLIENT_SECRET = "smarter-tenant", "panva-client-secret-0123456789abcdef"
PERSON = "frank@alpha.test"


def private_jwks(kid: str) -> dict[str, Any]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key))
    return {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}


@contextmanager
def panva(port: int, redirect_uri: str, jwks: dict[str, Any], issuer: str | None = None,
          person: dict[str, Any] | None = None) -> Iterator[str]:
    """oidc-provider on 127.0.0.1:<port> signing with ``jwks`` and answering every login with
    ``person`` (claims); yields its issuer. Each start is a new IdP session (sign-in and consent
    pages again)."""
    assert (PANVA / "node_modules" / "oidc-provider").is_dir(), "run scripts/install-system a11y"
    issuer = issuer or f"http://127.0.0.1:{port}"
    config = {"issuer": issuer, "port": port, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
              "redirect_uri": redirect_uri, "jwks": jwks,
              "person": person or {"email": PERSON, "email_verified": True, "groups": ["alpha-admins"]}}
    with node_server(PANVA / "server.mjs", {"OIDC_PANVA": json.dumps(config), "NODE_ENV": "test"}):
        yield issuer


def through_panva(page: Any, login: str = "frank") -> None:
    """panva's sign-in and consent pages."""
    page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/interaction/.*"))
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "any")
    page.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/interaction/.*"))
    page.locator("button[type=submit]").click()  # consent


def idp_sign_in(page: Any, base: str, button: str, login: str = "frank", lands: str = "/") -> None:
    """From the tenant's sign-in page through panva, back to ``lands`` (a pattern) on the tenant."""
    page.goto(f"{base}/login/")
    page.get_by_role("button", name=button).click()
    through_panva(page, login)
    page.wait_for_url(re.compile(re.escape(base) + lands + "$"))


def add_provider(page: Any, base: str, issuer: str) -> str:
    page.goto(f"{base}/console/security/sso/add/oidc/")
    page.fill("#id_name", "Panva IdP")
    page.fill("#id_issuer", issuer)
    page.fill("#id_client_id", CLIENT_ID)
    page.fill("#id_client_secret", CLIENT_SECRET)
    page.fill("#id_scopes", "openid email profile groups")
    page.fill("#id_admin_group", "alpha-admins")
    page.get_by_role("button", name="Add provider").click()
    page.wait_for_load_state()
    return str(page.locator("main").inner_text())


def signed_in_to_console(page: Any, base: str) -> bool:
    page.goto(f"{base}/console/")
    return bool(page.url == f"{base}/console/")


FORGED_NONCE = "a-nonce-this-sign-in-never-sent"
CALLBACK = r"/accounts/oidc/[^/]+/login/callback/\?.*"


def test_sign_in_through_panva_oidc_provider_with_key_rotation(transactional_db, live_server, tenant_a,
                                                              tmp_path, settings):
    port = urlsplit(live_server.url).port
    base = f"http://{tenant_a.host}:{port}"
    slug = provider_slug(tenant_a.account.account_number, 1)
    redirect_uri = f"{base}/accounts/oidc/{slug}/login/callback/"
    verify_email_domain(tenant_a.account, "alpha.test")
    idp_port = _free_port()
    settings.EGRESS_ALLOWED_TEST_ORIGINS = [f"http://127.0.0.1:{idp_port}"]
    key_1, key_2 = private_jwks("key-1"), private_jwks("key-2")
    button = "Sign in with Panva IdP"
    nonces: dict[str, str] = {}
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page() as page:
        sign_in(page, base, tenant_a.admin.user.username)
        # The provider publishes another issuer than the one configured: refused, nothing saved.
        with panva(idp_port, redirect_uri, key_1, issuer=f"http://localhost:{idp_port}"):
            text = add_provider(page, base, f"http://127.0.0.1:{idp_port}")
            assert "names the issuer" in text
        with panva(idp_port, redirect_uri, key_1) as issuer:
            text = add_provider(page, base, issuer + "/typo")
            assert "Connection test failed" in text and "404" in text
            text = add_provider(page, base, issuer)
            assert page.url == f"{base}/console/security/sso/", text
            assert "Connection tested" in text and "disabled" in text
            # Not before a test sign-in succeeded; the admin's test goes through panva for real.
            page.get_by_role("button", name="Enable").click()
            page.wait_for_url(f"{base}/console/security/sso/")
            assert "Run a test sign-in through it first" in page.locator("main").inner_text()
            page.get_by_role("button", name="Test sign-in").click()
            through_panva(page)
            page.wait_for_url(f"{base}/console/security/sso/")
            assert f"test sign-in succeeded as {PERSON}" in page.locator("main").inner_text()
            page.screenshot(path=str(ARTIFACTS / "e2e-sso-panva-tested.png"), full_page=True)
            page.get_by_role("button", name="Enable").click()
            page.wait_for_url(f"{base}/console/security/sso/")
            assert "Panva IdP enabled" in page.locator("main").inner_text()
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{base}/")
        with panva(idp_port, redirect_uri, key_1):
            idp_sign_in(page, base, button)
            assert signed_in_to_console(page, base)  # the groups claim made them an admin
            page.screenshot(path=str(ARTIFACTS / "e2e-sso-panva-signed-in.png"), full_page=True)
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{base}/")
        # An address the provider does not confirm (email_verified false): refused, clear page.
        mallory = {"email": "mallory@alpha.test", "email_verified": False, "groups": []}
        with panva(idp_port, redirect_uri, key_1, person=mallory):
            idp_sign_in(page, base, button, login="mallory", lands=CALLBACK)
            body = page.locator("body").inner_text()
            assert "Address not confirmed" in body and "mallory@alpha.test" in body, body
            page.screenshot(path=str(ARTIFACTS / "e2e-sso-panva-unverified.png"), full_page=True)
            assert not signed_in_to_console(page, base)
        # The nonce: sent on every authorization request, and the ID token's checked against it.
        # The sign-in start's redirect to panva is changed on its way to the browser (panva's
        # own requests are redirect targets, which the browser's routing does not see), so
        # panva signs a nonce this sign-in never sent.
        def other_nonce(route: Any) -> None:
            path = urlsplit(route.request.url).path  # fetched by Node, which does not resolve *.localhost
            headers = {**route.request.all_headers(), "host": urlsplit(base).netloc}
            response = route.fetch(url=f"http://127.0.0.1:{port}{path}", headers=headers, max_redirects=0)
            url = urlsplit(response.headers["location"])
            query = parse_qs(url.query)
            nonces["sent"], query["nonce"] = query["nonce"][0], [FORGED_NONCE]
            location = url._replace(query=urlencode(query, doseq=True)).geturl()
            route.fulfill(response=response, headers={**response.headers, "location": location})

        start = re.compile(re.escape(base) + r"/accounts/oidc/[^/]+/login/$")
        with panva(idp_port, redirect_uri, key_1):
            page.route(start, other_nonce)
            idp_sign_in(page, base, button, lands=CALLBACK)
            page.unroute(start)
            assert "Login Failure" in page.locator("body").inner_text()
            page.screenshot(path=str(ARTIFACTS / "e2e-sso-panva-nonce.png"), full_page=True)
            assert not signed_in_to_console(page, base)
        # The provider rotates its signing key: the next sign-in fetches the keys again.
        with panva(idp_port, redirect_uri, key_2):
            idp_sign_in(page, base, button)
            assert signed_in_to_console(page, base)
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{base}/")
        # Someone else answering at the issuer, signing with their own key under the known key
        # id: the signature does not verify against the stored key, nothing is refetched.
        with panva(idp_port, redirect_uri, private_jwks("key-2")):
            idp_sign_in(page, base, button, lands=CALLBACK)
            assert "Login Failure" in page.locator("body").inner_text()
            assert not signed_in_to_console(page, base)
    assert len(nonces["sent"]) >= 32
    user = get_user_model().objects.get(email=PERSON)
    assert UserProfile.objects.get(user=user, account=tenant_a.account).role == UserProfile.ROLE_ADMIN
    provider = IdentityProvider.objects.get(account=tenant_a.account)
    assert provider.test_signed_in_at is not None and provider.enabled
    # the rotated key, not the one the impostor signed with under the same key id
    assert [(k["kid"], k["n"]) for k in provider.oidc_jwks["keys"]] == [("key-2", key_2["keys"][0]["n"])]
    assert IdentityProvider.objects.filter(account=tenant_a.account).count() == 1
    assert not get_user_model().objects.filter(email="mallory@alpha.test").exists()
    refusals = [e.changes.get("reason", "") for e in
                AuditEvent.objects.filter(account=tenant_a.account, action="sso.refused").order_by("pk")]
    assert any("nonce" in r for r in refusals), refusals
    assert any("Signature verification failed" in r for r in refusals), refusals
    assert AuditEvent.objects.filter(account=tenant_a.account, action="sso.signed_in").count() == 2
