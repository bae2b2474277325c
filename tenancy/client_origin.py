"""The scheme and port the client used: what absolute URLs (mailed links, redirects to
another host) must carry.

Behind ``TRUSTED_PROXIES`` reverse proxies (Heroku's router) the app sees the proxy's
connection: its bind port (``SERVER_PORT``) means nothing to the client, and the Host header
usually has no port. The proxy reports the client's side in ``X-Forwarded-Proto`` (read by
Django through ``SECURE_PROXY_SSL_HEADER``, which settings set only when proxies are trusted)
and ``X-Forwarded-Port``. Without trusted proxies those headers are the client's own and are
ignored; the Host header's port is kept only when it is the port the connection really
reached (a direct request, ``runserver`` on :8000), so a forged ``Host: …:6666`` never ends up
in a link mailed to someone else. Any other case yields no port: the scheme's default.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest

_PORT_RE = re.compile(r"[0-9]{1,5}")
DEFAULT_PORTS = {"http": "80", "https": "443"}


def _valid_port(value: str) -> str | None:
    value = value.strip()
    return value if _PORT_RE.fullmatch(value) and 0 < int(value) < 65536 else None


def client_port(request: HttpRequest) -> str | None:
    """The port the client connected to, as far as it can be vouched for; None when it is
    the scheme's default or unknown (see the module docstring)."""
    if settings.TRUSTED_PROXIES > 0:
        forwarded = request.META.get("HTTP_X_FORWARDED_PORT", "")
        port = _valid_port(forwarded.split(",", 1)[0]) if forwarded else None
    else:
        raw_host = request.META.get("HTTP_HOST", "")
        _, colon, host_port = raw_host.rpartition(":")
        port = _valid_port(host_port) if colon and not host_port.endswith("]") else None
        if port is not None and port != str(request.META.get("SERVER_PORT", "")):
            port = None  # not the port this connection reached: the client's claim only
    if port is None or port == DEFAULT_PORTS.get(request.scheme or "http"):
        return None
    return port


def client_origin(request: HttpRequest, host: str) -> str:
    """``scheme://host[:port]`` for ``host`` as the client reaches this deployment."""
    port = client_port(request)
    return f"{request.scheme}://{host}{f':{port}' if port else ''}"
