"""The ``openid_connect`` provider of every account: a nonce on every authorization request,
the stored discovery document instead of a fetch, the ID token checked by :mod:`sso.idtoken`,
and no token authentication (no headless apps sign in with a bare ID token)."""

from __future__ import annotations

import secrets
from typing import Any

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.openid_connect.provider import OpenIDConnectProvider
from django.http import HttpRequest, HttpResponse

from .adapter import TenantOIDCAdapter


class TenantOIDCProvider(OpenIDConnectProvider):
    package = "identity.sso.oidc"
    oauth2_adapter_class = TenantOIDCAdapter

    def redirect(self, request: HttpRequest, process: Any, next_url: str | None = None, data: Any = None,
                 **kwargs: Any) -> HttpResponse:
        """The authorization request with a fresh nonce, kept in this sign-in's state."""
        nonce = secrets.token_urlsafe(32)
        auth_params = dict(kwargs.pop("auth_params", None) or self.get_auth_params())
        auth_params["nonce"] = nonce
        return super().redirect(request, process, next_url, data, auth_params=auth_params, nonce=nonce,
                                **kwargs)

    def verify_token(self, request: HttpRequest, token: Any) -> Any:
        raise get_adapter().validation_error("invalid_token")


provider_classes = [TenantOIDCProvider]
