"""Which names an account may bring as a custom domain, normalised like every request host."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

from tenancy.allowed_hosts import RuntimeAllowedHost, is_statically_allowed
from tenancy.hosts import MalformedHost, normalize_host

#: Routing entries are cached per bucket (see domains.routing), so the shared cache holds
#: at most this many keys however many distinct hosts clients send.
BUCKETS = 4096
#: The longest hostname as sent (253, and a trailing dot).
MAX_HOSTNAME_LENGTH = 254


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


# What normalize_custom_domain accepts, as a pattern: ASCII (IDNA) labels, at least two, the
# last not a number, an optional trailing dot, any case.
HOSTNAME_PATTERN = (r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                    r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.?$")


_NAME_CHARACTERS = re.compile(r"[.A-Za-z0-9-]+")


def _any_case(name: str) -> str:
    """``name`` as a regular expression matching it in any case."""
    return "".join(f"[{c}{c.upper()}]" if c.isalpha() else "\\." if c == "." else c for c in name)


def custom_domain_schema() -> dict[str, Any]:
    """:func:`normalize_custom_domain` as an OpenAPI schema, read from settings when the schema
    is built: the hostname pattern, and not the platform's root, a name under or above it, nor
    a name of a static ``ALLOWED_HOSTS`` entry."""
    root = settings.ROOT_DOMAIN
    labels = root.split(".")
    under = [root]  # the root and every name under it
    exact = [".".join(labels[i:]) for i in range(1, len(labels))]  # the names above it
    for entry in settings.ALLOWED_HOSTS:
        if entry == "*":
            return {"type": "string", "maxLength": MAX_HOSTNAME_LENGTH, "pattern": HOSTNAME_PATTERN,
                    "not": {}}  # every name is the platform's
        if isinstance(entry, RuntimeAllowedHost) or not _NAME_CHARACTERS.fullmatch(entry):
            continue  # an address such as [::1] is no hostname the pattern allows
        (under if entry.startswith(".") else exact).append(entry.lstrip(".").lower())
    names = [f"(?:.*\\.)?{_any_case(n)}" for n in sorted(set(under))]
    names += [_any_case(n) for n in sorted(set(exact))]
    return {"type": "string", "maxLength": MAX_HOSTNAME_LENGTH, "pattern": HOSTNAME_PATTERN,
            "not": {"pattern": f"^(?:{'|'.join(names)})\\.?$"}}


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
