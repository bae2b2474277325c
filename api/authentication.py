"""``Authorization: Token <key>``: a key authenticates its profile in its own account only."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from accounts.models import ApiKey
from tenancy import metrics
from tenancy.client_ip import client_ip
from tenancy.ratelimit import is_limited, record_failure

logger = logging.getLogger(__name__)
KEYWORD = "Token"


def address_key(address: str) -> str:
    return f"apikey:fail:ip:{address}"


def prefix_key(prefix: str) -> str:
    return f"apikey:fail:prefix:{prefix}"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Look the key up by its prefix, compare hashes in constant time, check every state.

    One generic message for every failure, so a caller cannot tell a revoked key from a
    key of another tenant. Failures are limited like sign-ins (``tenancy.ratelimit``), and
    only failures: past ``API_AUTH_FAILURE_LIMIT`` in ``API_AUTH_FAILURE_WINDOW`` seconds,
    a client address gets 429 for every *failing* attempt (a whole office behind one NAT
    keeps using its valid keys while someone there guesses); and once a real key's prefix
    has that many failures (from any addresses), further wrong secrets for it get 429 while
    the right key keeps working. A valid key is always one indexed lookup by prefix and one
    hash compare. Counters exist per address and per *existing* prefix only, so random keys
    cannot grow the cache; reaching a limit is logged once per window, not per attempt.
    """

    failure = _("Invalid, revoked or expired API key.")
    throttled = _("Too many failed API key attempts. Wait a few minutes and try again.")

    def authenticate(self, request: Any) -> tuple[Any, ApiKey] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None
        address = client_ip(request._request)
        if len(header) != 2:
            self._count_failure(address, None)
            raise exceptions.AuthenticationFailed(_("Use 'Authorization: Token <key>'."))
        try:
            raw = header[1].decode("ascii")
        except UnicodeError:
            raw = ""
        prefix = ApiKey.split(raw)
        account = getattr(request._request, "account", None)
        key = None
        if prefix is not None:  # prefixes are unique per account: looked up on this host's account only
            key = (
                ApiKey.objects.select_related("user_profile__user", "account")
                .filter(account_id=getattr(account, "pk", None), prefix=prefix)
                .first()
            )
        if key is None or not key.matches(raw) or not self._valid(key, account):
            self._count_failure(address, key.prefix if key is not None else None)
            raise exceptions.AuthenticationFailed(self.failure)
        key.touch()
        request._request.user_profile = key.user_profile
        return key.user_profile.user, key

    def _count_failure(self, address: str, prefix: str | None) -> None:
        """Count a failure for the address and an existing key's prefix; 429 for an address
        or a prefix already at its limit (not counted further). Each limit reached is logged
        once (the prefix, never a key)."""
        metrics.API_KEY_FAILURE.inc()
        limit, window = settings.API_AUTH_FAILURE_LIMIT, settings.API_AUTH_FAILURE_WINDOW
        if is_limited(address_key(address), limit):
            raise self._throttled()
        if record_failure(address_key(address), window) == limit:
            logger.warning("API key failures: %s failed %d times; refused for %d s",
                           address, limit, window)
        if prefix is None:
            return
        if is_limited(prefix_key(prefix), limit):
            raise self._throttled()
        if record_failure(prefix_key(prefix), window) == limit:
            logger.warning("API key failures: key %s failed %d times; wrong secrets for it "
                           "refused for %d s", prefix, limit, window)

    @staticmethod
    def _throttled() -> exceptions.Throttled:
        return exceptions.Throttled(
            wait=settings.API_AUTH_FAILURE_WINDOW, detail=str(ApiKeyAuthentication.throttled)
        )

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
