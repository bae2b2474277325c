"""Helpers of the trust tests: an OpenID Connect sign-in through the real views with the IdP's
network answers (token with a signed ID token, userinfo) stood in by the test, so the claims
(``email_verified`` above all) are the test's; the provider row holds the discovery document
and keys as a connection test stores them; and SAML sign-ins with tests.support.sso_support."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.utils import timezone

from accounts.models import Account
from identity.sso.models import IdentityProvider
from identity.sso.oidc.adapter import TenantOIDCAdapter
from tests.support.oidc_support import SigningKey
from tests.support.sso_support import KeyPair, authn_request_id, saml_response

ISSUER = "https://idp.trust.test"
SAML_ENTITY = "https://saml.trust.test/"
DISCOVERY = {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize",
             "token_endpoint": f"{ISSUER}/token", "userinfo_endpoint": f"{ISSUER}/userinfo",
             "jwks_uri": f"{ISSUER}/jwks"}
SIGNING_KEY = SigningKey("trust-key")


def oidc_provider(account: Account, name: str = "Trust IdP") -> IdentityProvider:
    provider = IdentityProvider(account=account, kind="oidc", name=name, issuer=ISSUER, client_id="c1",
                                oidc_discovery=DISCOVERY, oidc_jwks={"keys": [SIGNING_KEY.jwk()]},
                                metadata_checked_at=timezone.now())
    provider.set_client_secret("s3cret")
    provider.save()
    return provider


class FakeOidc:
    """The IdP's answers: ``claims`` is what its userinfo endpoint says next."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.claims: dict[str, Any] = {}
        monkeypatch.setattr(TenantOIDCAdapter, "get_access_token_data",
                            lambda adapter, *args, **kwargs: self._token(adapter))
        monkeypatch.setattr(TenantOIDCAdapter, "_fetch_user_info", lambda adapter, token: dict(self.claims))

    def _token(self, adapter: TenantOIDCAdapter) -> dict[str, Any]:
        """The token endpoint's answer: an ID token for this sign-in (its nonce), signed."""
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": "c1", "sub": self.claims.get("sub"), "iat": now, "exp": now + 300,
                  "nonce": adapter.expected_nonce}
        id_token = jwt.encode(claims, SIGNING_KEY.key, algorithm="RS256", headers={"kid": SIGNING_KEY.kid})
        return {"access_token": "at", "token_type": "Bearer", "id_token": id_token}

    def sign_in(self, client: Any, slug: str, **claims: Any) -> Any:
        """Start on the account's host, 'authenticate' at the IdP, come back: the callback's answer."""
        self.claims = claims
        start = client.post(f"/accounts/oidc/{slug}/login/", {"process": "login"})
        assert start.status_code == 302 and start["Location"].startswith(ISSUER), start
        state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
        return client.get(f"/accounts/oidc/{slug}/login/callback/", {"code": "c", "state": state})


def saml_sign_in(client: Any, host: str, provider: IdentityProvider, keys: KeyPair, email: str,
                 **kw: Any) -> Any:
    """A SAML sign-in on ``host`` with a response signed by ``keys``: the final answer."""
    slug = provider.slug
    start = client.post(f"/accounts/saml/{slug}/login/", {"process": "login"})
    assert start.status_code == 302, start.content[:300]
    base = f"http://{host}/accounts/saml/{slug}/"
    xml = saml_response(keys, issuer=provider.idp_entity_id, acs_url=base + "acs/",
                        audience=base + "metadata/", in_response_to=authn_request_id(start["Location"]),
                        email=email, **kw)
    acs = client.post(f"/accounts/saml/{slug}/acs/", {"SAMLResponse": xml})
    assert acs.status_code == 302, acs.content[:300]
    return client.get(acs["Location"])


def signed_in_as(client: Any) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None
