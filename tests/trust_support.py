"""Helpers of the trust tests: an OpenID Connect sign-in through allauth's real views with the
IdP's three network answers (discovery, token, userinfo) stood in by the test, so the claims
(``email_verified`` above all) are the test's; and SAML sign-ins with tests.sso_support."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter

from accounts.models import Account
from identity.sso.models import IdentityProvider
from tests.sso_support import KeyPair, authn_request_id, saml_response

ISSUER = "https://idp.trust.test"
SAML_ENTITY = "https://saml.trust.test/"


def oidc_provider(account: Account, name: str = "Trust IdP") -> IdentityProvider:
    provider = IdentityProvider(account=account, kind="oidc", name=name, issuer=ISSUER, client_id="c1")
    provider.set_client_secret("s3cret")
    provider.save()
    return provider


class FakeOidc:
    """The IdP's answers: ``claims`` is what its userinfo endpoint says next."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.claims: dict[str, Any] = {}
        config = {"issuer": ISSUER, "authorization_endpoint": f"{ISSUER}/authorize",
                  "token_endpoint": f"{ISSUER}/token", "userinfo_endpoint": f"{ISSUER}/userinfo",
                  "jwks_uri": f"{ISSUER}/jwks"}
        monkeypatch.setattr(OpenIDConnectOAuth2Adapter, "openid_config", config)
        monkeypatch.setattr(OpenIDConnectOAuth2Adapter, "get_access_token_data",
                            lambda *a, **k: {"access_token": "at", "token_type": "Bearer"})
        monkeypatch.setattr(OpenIDConnectOAuth2Adapter, "_fetch_user_info",
                            lambda adapter, token: dict(self.claims))

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
