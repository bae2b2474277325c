"""Bench only: a local stand-in for the proposed replacement of django-hosts' middleware pair.

TenantHostMiddleware has already parsed the host (``request.host_info.kind``), so the URLconf
can be picked with one dict lookup instead of django-hosts matching every host pattern again
(twice: request and response) after two more ``request.get_host()`` validations.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse

from middleware.tenant import TenantMembershipMiddleware

# In the product: {"tenant": "smarter.urls.tenant", "api": "smarter.urls.api", ...}
URLCONF_BY_KIND: dict[str, str] = {}


class HostUrlconfMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        info = getattr(request, "host_info", None)
        if info is not None:
            request.urlconf = URLCONF_BY_KIND.get(info.kind, settings.ROOT_URLCONF)
        return self.get_response(request)


class PatchL1Revalidation:
    """Startup hook: patch TwoLevelCache (see bench/settings_tenancy_patched.py), then step aside."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        patch_l1_revalidation(float(settings.TENANCY_L1_REVALIDATE))
        raise MiddlewareNotUsed


def patch_l1_revalidation(interval: float) -> None:
    from tenancy import cache as tc

    cls = tc.TwoLevelCache
    if getattr(cls, "_bench_patched", False):
        return
    original_get, original_invalidate = cls.get_or_load, cls.invalidate

    def get_or_load(self, key, loader, *, invalidate=False):
        checked = self.__dict__.setdefault("_checked", {})
        if not invalidate:
            local = self.l1.get(key)
            if local is not None and time.monotonic() - checked.get(key, -1e9) < interval:
                return local[1]
        value = original_get(self, key, loader, invalidate=invalidate)
        if len(checked) > self.l1.maxsize:  # bounded like L1 (in the product: stored in the entry)
            checked.clear()
        checked[key] = time.monotonic()
        return value

    def invalidate(self, *keys):
        checked = self.__dict__.setdefault("_checked", {})
        for key in keys:
            checked.pop(key, None)
        return original_invalidate(self, *keys)

    cls.get_or_load = get_or_load
    cls.invalidate = invalidate
    cls._bench_patched = True


class NoCookieMembershipMiddleware(TenantMembershipMiddleware):
    """Proposed: without a session cookie the user is anonymous; skip the lazy-user load."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)
        return super().__call__(request)
