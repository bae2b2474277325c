"""``Authorization: Token <key>``: a key authenticates its profile in its own account only."""

from __future__ import annotations

import logging
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiKey
from accounts.models.api_key import split_key

logger = logging.getLogger(__name__)
KEYWORD = "Token"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Look the key up by its prefix, compare hashes in constant time, check every state.

    One generic message for every failure, so a caller cannot tell a revoked key from a
    key of another tenant.
    """

    failure = _("Invalid, revoked or expired API key.")

    def authenticate(self, request: Any) -> tuple[Any, ApiKey] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Use 'Authorization: Token <key>'."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed(self.failure) from None
        prefix = split_key(raw)
        if prefix is None:
            raise exceptions.AuthenticationFailed(self.failure)
        account = getattr(request._request, "account", None)
        key = (  # prefixes are unique per account: looked up on this host's account only
            ApiKey.objects.select_related("user_profile__user", "account")
            .filter(account_id=getattr(account, "pk", None), prefix=prefix)
            .first()
        )
        if key is None or not key.matches(raw) or not self._valid(key, account):
            logger.info("rejected API key %s", prefix)  # the prefix only, never the key
            raise exceptions.AuthenticationFailed(self.failure)
        key.touch()
        request._request.user_profile = key.user_profile
        return key.user_profile.user, key

    @staticmethod
    def _valid(key: ApiKey, account: Any) -> bool:
        profile = key.user_profile
        return bool(
            key.is_usable
            and account is not None
            and key.account_id == account.pk
            and profile.account_id == account.pk
            and profile.is_active
            and profile.user.is_active
            and key.account.is_active
        )

    def authenticate_header(self, request: Any) -> str:
        return KEYWORD


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "api.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "`Token <key>`; a key works only on its own account's host.",
        }
