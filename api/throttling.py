"""Rate limit per API key (keyed by its prefix), per client address when unauthenticated."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiKey


class ApiKeyRateThrottle(SimpleRateThrottle):
    scope = "api_key"

    def get_rate(self) -> str:
        return str(settings.API_RATE_LIMIT)  # read per request, so it can be changed

    def get_cache_key(self, request: Any, view: Any) -> str:
        if isinstance(request.auth, ApiKey):
            ident = f"key:{request.auth.prefix}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return f"throttle:api:{ident}"
