"""OIDC sign-in in headless Chromium through a third-party, OpenID Certified provider: panva's
``oidc-provider`` (npm, pinned by tests/oidc_panva/package-lock.json, installed by
``scripts/install-system a11y``) run by Node on loopback with its development sign-in and
consent pages. The admin's issuer typo and an issuer the provider does not publish are form
errors; the saved provider starts disabled; the person signs in (nonce, PKCE S256, signed ID
token, groups claim making them admin); the provider then rotates its signing key and the next
sign-in still works (the keys are fetched again once)."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model

from accounts.models import UserProfile
from identity.sso.models import IdentityProvider, provider_slug
from tests.support.browser_support import sign_in
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
def panva(port: int, redirect_uri: str, kid: str, issuer: str | None = None) -> Iterator[str]:
    """oidc-provider on 127.0.0.1:<port> signing with a new key named ``kid``; yields its issuer."""
    assert (PANVA / "node_modules" / "oidc-provider").is_dir(), "run scripts/install-system a11y"
    issuer = issuer or f"http://127.0.0.1:{port}"
    config = {"issuer": issuer, "port": port, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
              "redirect_uri": redirect_uri, "jwks": private_jwks(kid),
              "person": {"email": PERSON, "email_verified": True, "groups": ["alpha-admins"]}}
    proc = subprocess.Popen(["node", str(PANVA / "server.mjs")], cwd=PANVA, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "OIDC_PANVA": json.dumps(config), "NODE_ENV": "test"})
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:  # its warnings, then "ready" (EOF if it failed to start)
            seen.append(line)
            if line.strip() == "ready":
                break
        assert seen and seen[-1].strip() == "ready", "".join(seen)
        yield issuer
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def idp_sign_in(page: Any, base: str, button: str) -> None:
    """From the tenant's sign-in page through panva's sign-in and consent pages, back home."""
    page.goto(f"{base}/login/")
    page.get_by_role("button", name=button).click()
    page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/interaction/.*"))
    page.fill("input[name=login]", "frank")
    page.fill("input[name=password]", "any")
    page.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/interaction/.*"))
    page.locator("button[type=submit]").click()  # consent
    page.wait_for_url(f"{base}/")


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


def test_sign_in_through_panva_oidc_provider_with_key_rotation(transactional_db, live_server, tenant_a,
                                                              tmp_path, settings):
    port = urlsplit(live_server.url).port
    base = f"http://{tenant_a.host}:{port}"
    slug = provider_slug(tenant_a.account.account_number, 1)
    redirect_uri = f"{base}/accounts/oidc/{slug}/login/callback/"
    verify_email_domain(tenant_a.account, "alpha.test")
    idp_port = _free_port()
    settings.EGRESS_ALLOWED_TEST_ORIGINS = [f"http://127.0.0.1:{idp_port}"]
    ARTIFACTS.mkdir(exist_ok=True)
    with chromium_page() as page:
        sign_in(page, base, tenant_a.admin.user.username)
        # The provider publishes another issuer than the one configured: refused, nothing saved.
        with panva(idp_port, redirect_uri, "key-0", issuer=f"http://localhost:{idp_port}"):
            text = add_provider(page, base, f"http://127.0.0.1:{idp_port}")
            assert "names the issuer" in text
        with panva(idp_port, redirect_uri, "key-1") as issuer:
            text = add_provider(page, base, issuer + "/typo")
            assert "Connection test failed" in text and "404" in text
            text = add_provider(page, base, issuer)
            assert page.url == f"{base}/console/security/sso/", text
            assert "Connection tested" in text and "disabled" in text
            page.get_by_role("button", name="Enable").click()
            page.wait_for_url(f"{base}/console/security/sso/")
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{base}/")
            idp_sign_in(page, base, "Sign in with Panva IdP")
            page.goto(f"{base}/console/")
            assert page.url == f"{base}/console/"  # the groups claim made them an admin
            page.screenshot(path=str(ARTIFACTS / "e2e-sso-panva-signed-in.png"), full_page=True)
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_url(f"{base}/")
        # The provider rotates its signing key: the next sign-in fetches the keys again.
        with panva(idp_port, redirect_uri, "key-2"):
            idp_sign_in(page, base, "Sign in with Panva IdP")
            page.goto(f"{base}/console/")
            assert page.url == f"{base}/console/"
    user = get_user_model().objects.get(email=PERSON)
    assert UserProfile.objects.get(user=user, account=tenant_a.account).role == UserProfile.ROLE_ADMIN
    provider = IdentityProvider.objects.get(account=tenant_a.account)
    assert [k["kid"] for k in provider.oidc_jwks["keys"]] == ["key-2"]
    assert IdentityProvider.objects.filter(account=tenant_a.account).count() == 1
