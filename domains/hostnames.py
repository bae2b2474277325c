"""Which names an account may bring as a custom domain, normalised like every request host."""

from __future__ import annotations

import hashlib
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError

from tenancy.allowed_hosts import is_statically_allowed
from tenancy.hosts import MalformedHost, normalize_host

#: Routing entries are cached per bucket (see domains.routing), so the shared cache holds
#: at most this many keys however many distinct hosts clients send.
BUCKETS = 4096


def normalize_custom_domain(value: str) -> str:
    """The canonical form of a custom domain, or ValidationError saying what is wrong.

    Same rules as every request host (``tenancy.hosts.normalize_host``: lower case, one
    trailing dot dropped, ASCII/IDNA labels, length bounds), and beyond that: a name, not an
    address or a port; at least two labels; never the platform's own root, a name under it or
    above it, nor a host the operator already serves.
    """
    raw = (value or "").strip()
    if ":" in raw or raw.startswith("["):
        raise ValidationError("Enter a domain name without a port or brackets, e.g. app.example.com.",
                              code="invalid_domain")
    try:
        host = normalize_host(raw)
    except MalformedHost as exc:
        raise ValidationError(f"Not a valid domain name ({exc}). Use the IDNA (xn--) form of "
                              "international names.", code="invalid_domain") from None
    labels = host.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        raise ValidationError("Enter a full domain name such as app.example.com (not an address).",
                              code="invalid_domain")
    root = settings.ROOT_DOMAIN
    if host == root or host.endswith("." + root) or root.endswith("." + host):
        raise ValidationError(f"Names under {root} belong to the platform; use a domain of your own.",
                              code="platform_domain")
    if is_statically_allowed(host):
        raise ValidationError("This name is served by the platform itself.", code="platform_domain")
    return host


def validate_custom_domain(value: str) -> None:
    """Model/form validator form of :func:`normalize_custom_domain`."""
    normalize_custom_domain(value)


def bucket_of(hostname: str) -> int:
    """The routing-cache bucket of a normalised hostname (stable across processes)."""
    return _hash32(hostname) % BUCKETS


@lru_cache(maxsize=4096)  # asked for the host of every custom-domain request
def _hash32(hostname: str) -> int:
    """The hash only: a memo of the bucket itself would outlive a change of ``BUCKETS``."""
    return int.from_bytes(hashlib.sha256(hostname.encode("ascii")).digest()[:4], "big")
