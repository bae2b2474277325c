"""The client's IP address, for per-address limits (login attempts).

Behind a platform router (Heroku and the like) ``REMOTE_ADDR`` is the router's address, so
every client would share one limit and one attacker could lock a whole tenant out. With
``TRUSTED_PROXIES = n`` the address is the n-th entry from the right of
``X-Forwarded-For`` (the one the outermost trusted proxy saw); entries further left are
client-supplied and never trusted.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address the request came from, as far as the trusted proxies can vouch."""
    remote = str(request.META.get("REMOTE_ADDR") or "unknown")
    proxies = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [h for h in hops if h]
    if len(hops) < proxies:
        return remote  # not (fully) forwarded by our proxies: a direct connection
    candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


def client_ip_address(request: HttpRequest) -> str | None:
    """:func:`client_ip` if it is an IP address (typed columns such as the audit log's), else None."""
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None
