"""The two private parts of Django's ``HttpRequest`` the tenant middleware relies on, in one
place, pinned by ``tests/test_django_compat.py`` so a Django upgrade that changes them fails
there and not in routing. Django has no public API for either:

* the Host header as ``get_host()`` reads it (``X-Forwarded-Host`` when trusted, the port
  kept) *before* its ``ALLOWED_HOSTS`` check: a custom domain is resolved first, then vouched
  for (``tenancy.allowed_hosts.vouch``);
* the scheme and host every ``build_absolute_uri()`` of the request starts with, which Django
  caches on the request and which the middleware sets to the client's origin.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def raw_host(request: HttpRequest) -> str:
    """The Host ``request.get_host()`` would check, unchecked (``HttpRequest._get_raw_host``)."""
    return request._get_raw_host()  # type: ignore[attr-defined,no-any-return]


def set_absolute_origin(request: HttpRequest, origin: Any) -> None:
    """Make every ``build_absolute_uri()`` of ``request`` start with ``origin``
    (``scheme://host[:port]``, or a lazy string worked out when first used), as Django's
    cached ``HttpRequest._current_scheme_host`` does."""
    request._current_scheme_host = origin  # type: ignore[attr-defined]
