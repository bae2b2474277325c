"""``Authorization: Bearer <token>`` for /scim/v2/: a token of the host's account, not revoked.

django-scim2 wraps every SCIM view's ``dispatch`` in ``settings.SCIM_SERVICE_PROVIDER
["AUTH_CHECK_MIDDLEWARE"]``: this class. Like API keys (api/authentication.py), a token is one
indexed lookup by its prefix *within the host's account* and one constant-time hash compare;
every failure gets the same 401, so a token of another account looks like a wrong one. Failures
count per client address (``tenancy.ratelimit``, ``API_AUTH_FAILURE_*``: past the limit, 429
without a lookup); accepted requests are rate-limited per token with ``API_RATE_LIMIT``, by the
API's own atomic throttle.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django_scim import constants

from api.throttling import ApiKeyRateThrottle
from tenancy.client_ip import client_ip
from tenancy.operation import current_operation
from tenancy.ratelimit import give_back, record_failure, take_attempt

from .models import ScimToken

logger = logging.getLogger(__name__)


def address_key(address: str) -> str:
    return f"scim:fail:ip:{address}"


def scim_error(status: int, detail: str, scim_type: str | None = None, **headers: str) -> HttpResponse:
    """A SCIM error document (RFC 7644 3.12: ``status`` is a string)."""
    body = {"schemas": [constants.SchemaURI.ERROR], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    response = HttpResponse(json.dumps(body), status=status, content_type=constants.SCIM_CONTENT_TYPE)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


class ScimTokenThrottle(ApiKeyRateThrottle):
    """The API's per-key rate limit, keyed by the SCIM token."""

    def get_cache_key(self, request: Any, view: Any) -> str:
        return f"throttle:scim:{request.scim_token.prefix}"


class ScimTokenCheck:
    """Authenticate the SCIM request, or answer 401/429 before the view runs."""

    def __init__(self, get_response: Callable[..., HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        token = self._token(request)
        if isinstance(token, HttpResponse):
            return token
        token.touch()
        request.scim_token = token  # type: ignore[attr-defined]
        throttle = ScimTokenThrottle()
        if not throttle.allow_request(request, None):
            wait = str(math.ceil(throttle.wait()))
            return scim_error(429, "Too many SCIM requests; slow down.", Retry_After=wait)
        op = current_operation()
        if op is not None:
            op.label = f"SCIM token {token.prefix}"  # the audit log's source_label
        return self.get_response(request, *args, **kwargs)

    def _token(self, request: HttpRequest) -> ScimToken | HttpResponse:
        address = client_ip(request)
        limit, window = settings.API_AUTH_FAILURE_LIMIT, settings.API_AUTH_FAILURE_WINDOW
        scheme, _, raw = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        raw = raw.strip()
        account = getattr(request, "account", None)
        prefix = ScimToken.split(raw) if scheme.lower() == "bearer" else None
        token = None
        taken = False
        if prefix is not None and account is not None:
            # counted before the token is checked (atomic): parallel guesses cannot all pass
            if not take_attempt(address_key(address), limit, window):
                return scim_error(429, "Too many failed SCIM tokens; wait and try again.",
                                  Retry_After=str(window))
            taken = True
            try:
                token = ScimToken.objects.filter(account_id=account.pk, prefix=prefix).first()
            except DatabaseError:
                give_back(address_key(address))  # an outage, not a wrong token: not counted
                raise
        if token is None or account is None or not (token.is_active and token.matches(raw)
                                                     and account.is_active):
            counted = (int(cache.get(address_key(address)) or 0) if taken
                       else record_failure(address_key(address), window) if prefix is not None else 0)
            if counted == limit:
                logger.warning("SCIM token failures: %s failed %d times; refused for %d s",
                               address, limit, window)
            return scim_error(401, "Invalid or revoked SCIM token.",
                              WWW_Authenticate='Bearer realm="scim"')
        give_back(address_key(address))  # the right token: the attempt is not a failure
        return token
