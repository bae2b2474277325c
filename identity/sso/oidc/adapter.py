"""The OAuth2 adapter of an account's OIDC provider: endpoints from the discovery document
stored when the provider was checked (:mod:`sso.metadata`), never fetched here; the ID token
verified by :mod:`sso.idtoken` before userinfo is asked; userinfo's subject must be the
token's (OIDC Core 1.0 §5.3.2)."""

from __future__ import annotations

from typing import Any

from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.http import HttpRequest

from .. import idtoken
from ..caching import ProviderConfig
from ..testsignin import config_for


class ProviderNotReady(idtoken.IdTokenInvalid):
    """The provider has no checked discovery document (or is not this account's)."""


class TenantOIDCAdapter(OpenIDConnectOAuth2Adapter):
    #: The nonce this browser's sign-in sent (set by the callback view from the stashed state).
    expected_nonce: str | None = None

    @property
    def sso_config(self) -> ProviderConfig:
        config = config_for(self.request, self.provider_id)
        if config is None or config.kind != "oidc":
            raise ProviderNotReady("This identity provider is not set up for this account.")
        return config

    @property
    def openid_config(self) -> dict[str, Any]:
        document = self.sso_config.oidc_discovery
        if not document:
            raise ProviderNotReady("This identity provider's configuration has not been checked yet.")
        return document

    def _decode_id_token(self, app: Any, id_token: str) -> dict[str, Any]:
        return idtoken.verify(id_token, self.sso_config, nonce=self.expected_nonce)

    def complete_login(self, request: HttpRequest, app: Any, token: Any, **kwargs: Any) -> Any:
        id_token = kwargs["response"].get("id_token")
        if not id_token:
            raise idtoken.IdTokenInvalid("The identity provider sent no ID token.")
        data: dict[str, Any] = {"id_token": self._decode_id_token(app, id_token)}
        if app.settings.get("fetch_userinfo"):
            userinfo = self._fetch_user_info(token.token)
            if not isinstance(userinfo, dict) or userinfo.get("sub") != data["id_token"]["sub"]:
                raise idtoken.IdTokenInvalid("The userinfo answer is about another subject.")
            data["userinfo"] = userinfo
        return self.get_provider().sociallogin_from_response(request, data)
