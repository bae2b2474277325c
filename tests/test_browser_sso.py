"""OIDC single sign-on end to end in headless Chromium, against a real identity provider:
django-oauth-toolkit with OIDC enabled, run as a second Django server process on loopback.
The account admin adds the provider in the console (the redirect URI is shown there); a person
then opens the tenant's sign-in page, presses "Sign in with <provider>", signs in at the IdP,
consents, and comes back to the tenant host signed in as a new member; the audit log has the
sign-in with source ``sso``. Another account's host neither lists nor serves the provider."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
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
from tests.support.browser_support import sign_in
from tests.support.sso_support import make_key_pair, verify_email_domain
from tests.test_browser import ARTIFACTS, chromium_page

pytestmark = [pytest.mark.browser]
ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID, CLIENT_SECRET = "smarter-tenant-client", "idp-client-secret-0123456789"
PERSON, PERSON_PASSWORD = "frank@alpha.test", "idp-password-42-frank"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def oidc_idp(tmp_path: Path, redirect_uri: str, group: str = "") -> Iterator[str]:
    """Start the IdP (migrate, create the person and the client, runserver); yield its issuer."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.oidc_idp.settings", "PYTHONPATH": str(ROOT),
           "IDP_DB": str(tmp_path / "idp.sqlite3"), "IDP_RSA_KEY": make_key_pair().key_pem}
    run = {"cwd": ROOT, "env": env, "check": True, "capture_output": True, "timeout": 120}
    subprocess.run([sys.executable, "-m", "django", "migrate", "--noinput"], **run)  # noqa: S603
    subprocess.run([sys.executable, "-m", "tests.oidc_idp.setup", CLIENT_ID, CLIENT_SECRET,  # noqa: S603
                    redirect_uri, PERSON, PERSON_PASSWORD, group], **run)
    port = _free_port()
    log = (tmp_path / "idp.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}",  # noqa: S603
                             "--noreload"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}/o"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{issuer}/.well-known/openid-configuration", timeout=2):  # noqa: S310
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "idp.log").read_text()
                assert time.monotonic() < deadline, "the IdP did not start"
                time.sleep(0.2)
        yield issuer
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


def idp_authorize(page: Any, shot: str, log_in: bool = True) -> None:
    """At the IdP: its sign-in form (unless the IdP session already exists), then consent."""
    if log_in:
        page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/login/.*"))
        page.fill("#id_username", PERSON)
        page.fill("#id_password", PERSON_PASSWORD)
        page.get_by_role("button", name="Log in to the IdP").click()
    page.wait_for_url(re.compile(r"http://127\.0\.0\.1:\d+/o/authorize/.*"))
    page.screenshot(path=str(ARTIFACTS / f"e2e-sso-{shot}.png"), full_page=True)
    page.get_by_role("button", name="Authorize").click()


def test_oidc_sign_in_through_a_real_idp_creates_the_member(transactional_db, live_server, tenant_a, tenant_b,
                                                            tmp_path, settings):
    port = urlsplit(live_server.url).port
    base, base_b = f"http://{tenant_a.host}:{port}", f"http://{tenant_b.host}:{port}"
    slug = provider_slug(tenant_a.account.account_number, 1)
    redirect_uri = f"{base}/accounts/oidc/{slug}/login/callback/"
    verify_email_domain(tenant_a.account, "alpha.test")
    ARTIFACTS.mkdir(exist_ok=True)
    with oidc_idp(tmp_path, redirect_uri, group="alpha-admins") as issuer, chromium_page() as page:
        settings.EGRESS_ALLOWED_TEST_ORIGINS = [issuer.removesuffix("/o")]  # this IdP only
        # The admin adds the provider in the console; the page shows the redirect URI.
        sign_in(page, base, tenant_a.admin.user.username)
        page.goto(f"{base}/console/security/sso/add/oidc/")
        page.fill("#id_name", "Alpha IdP")
        page.fill("#id_issuer", issuer)
        page.fill("#id_client_id", CLIENT_ID)
        page.fill("#id_client_secret", CLIENT_SECRET)
        page.fill("#id_admin_group", "alpha-admins")
        page.get_by_role("button", name="Add provider").click()
        page.wait_for_url(f"{base}/console/security/sso/")
        console = page.locator("main").inner_text()
        assert redirect_uri in console and CLIENT_SECRET not in page.content()
        page.screenshot(path=str(ARTIFACTS / "e2e-sso-console.png"), full_page=True)
        # Saved after a connection test, but disabled until the admin's test sign-in succeeded.
        assert "Connection tested" in console and "disabled" in console
        page.get_by_role("button", name="Test sign-in").click()
        idp_authorize(page, "admin-test")
        page.wait_for_url(f"{base}/console/security/sso/")
        assert f"test sign-in succeeded as {PERSON}" in page.locator("main").inner_text()
        page.get_by_role("button", name="Enable").click()
        page.wait_for_url(f"{base}/console/security/sso/")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{base}/")
        # Another account's host lists no such button and does not serve the provider.
        page.goto(f"{base_b}/login/")
        assert page.get_by_role("button", name="Sign in with Alpha IdP").count() == 0
        assert page.goto(f"{base_b}/accounts/oidc/{slug}/login/").status == 404
        # The person: tenant sign-in page -> IdP sign-in -> consent -> back, signed in.
        page.goto(f"{base}/login/")
        page.get_by_role("button", name="Sign in with Alpha IdP").click()
        idp_authorize(page, "consent", log_in=False)
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/console/")
        # the IdP's admin group made them an account admin: the console opens (no 403, no sign-in)
        assert page.url == f"{base}/console/"
        assert "console" in page.locator("h1").inner_text().lower()
        page.screenshot(path=str(ARTIFACTS / "e2e-sso-signed-in.png"), full_page=True)
    user = get_user_model().objects.get(email=PERSON)
    profile = UserProfile.objects.get(user=user, account=tenant_a.account)
    assert profile.created_user and profile.is_active
    provider = IdentityProvider.objects.get(account=tenant_a.account)
    assert provider.client_secret_encrypted and CLIENT_SECRET not in provider.client_secret_encrypted
    assert AuditEvent.objects.filter(account=tenant_a.account, source="sso", action="sso.signed_in",
                                     target_id=str(user.pk)).exists()
    assert not UserProfile.objects.filter(user=user, account=tenant_b.account).exists()
