"""Parse a request host into the tenant it addresses.

Only the host is ever read (never a path or query). Shapes, with ROOT and ENV from
settings: ``ROOT``, ``ENV.api.ROOT``, ``ACCOUNT.ENV.api.ROOT`` and
``WORKSPACE.ACCOUNT.ENV.api.ROOT``. A host that is not well-formed raises
:class:`MalformedHost` (HTTP 400); a well-formed host of no known shape raises
:class:`UnknownHost` (HTTP 404).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest

from .client_origin import client_origin

MAX_HOST_LENGTH = 253
MAX_LABEL_LENGTH = 63
ACCOUNT_NUMBER_RE = re.compile(r"[0-9]{4}-[0-9]{4}-[0-9]{4}")
LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_PORT_RE = re.compile(r"[0-9]{1,5}")
# Any root: used by account_number_from_url, which reads hosts of other deployments too.
_ANY_TENANT_HOST_RE = re.compile(
    r"(?:(?P<workspace>[a-z0-9-]{1,63})\.)?(?P<account>[0-9]{4}-[0-9]{4}-[0-9]{4})"
    r"\.[a-z0-9-]{1,63}\.api(?:\.[a-z0-9-]{1,63})+"
)

HostKind = Literal["platform", "api", "tenant"]


class MalformedHost(ValueError):
    """The host is not a syntactically valid DNS name (HTTP 400)."""


class UnknownHost(LookupError):
    """The host is well-formed but has no shape this deployment serves (HTTP 404)."""


@dataclass(frozen=True, slots=True)
class HostInfo:
    """What a host addresses: its kind, and for tenant hosts the account and workspace."""

    host: str
    kind: HostKind
    account_number: str | None = None
    workspace: str | None = None
    custom_domain: bool = False  # a tenant served on its own domain, not its number host


def normalize_host(raw: str) -> str:
    """Lower-case ``raw``, strip a port and one trailing dot, and check DNS syntax.

    Raises :class:`MalformedHost` for anything that is not a valid ASCII (IDNA) name.
    """
    if not isinstance(raw, str):
        raise MalformedHost("host must be a string")
    if not raw or len(raw) > MAX_HOST_LENGTH + 7:
        raise MalformedHost("empty or over-long host")
    host = raw.lower()
    if host.startswith("["):  # IPv6 literal: never a tenant host
        end = host.find("]")
        if end == -1:
            raise MalformedHost("unterminated IPv6 literal")
        return host[: end + 1]
    if ":" in host:
        host, _, port = host.partition(":")
        if not _PORT_RE.fullmatch(port):
            raise MalformedHost("bad port")
    if host.endswith("."):
        host = host[:-1]
    if not host or len(host) > MAX_HOST_LENGTH:
        raise MalformedHost("empty or over-long host")
    if not host.isascii():
        raise MalformedHost("host is not ASCII; use its IDNA (xn--) form")
    for label in host.split("."):
        if not LABEL_RE.fullmatch(label):
            raise MalformedHost(f"invalid label {label[:MAX_LABEL_LENGTH]!r}")
        if label.startswith("xn--"):
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError as exc:
                raise MalformedHost("invalid IDNA label") from exc
    return host


def is_workspace_label(label: str) -> bool:
    """True when ``label`` may name a workspace: a DNS label that is not reserved."""
    return (
        bool(LABEL_RE.fullmatch(label))
        and label not in settings.RESERVED_LABELS
        and not ACCOUNT_NUMBER_RE.fullmatch(label)
        and not label.startswith("xn--")
    )


def workspace_label_schema() -> dict[str, Any]:
    """:func:`is_workspace_label` as an OpenAPI schema, read from settings when the schema is
    built: a DNS label, and not a reserved label, an account number's shape or an IDNA label."""
    return {
        "type": "string", "maxLength": MAX_LABEL_LENGTH, "pattern": f"^{LABEL_RE.pattern}$",
        "not": {"anyOf": [{"enum": sorted(settings.RESERVED_LABELS)},
                          {"pattern": f"^{ACCOUNT_NUMBER_RE.pattern}$"},
                          {"pattern": "^xn--"}]},
    }


@lru_cache(maxsize=4096)
def _parse(host: str, root: str, environment: str) -> HostInfo:
    if host == root or not host.endswith("." + root):
        # The bare root, or another name the operator allowed (an IP, the platform's app
        # domain): both serve the platform's default account.
        return HostInfo(host=host, kind="platform")
    labels = host[: -len(root) - 1].split(".")
    if len(labels) < 2 or labels[-1] != "api" or labels[-2] != environment:
        raise UnknownHost(host)
    head = labels[:-2]
    if not head:
        return HostInfo(host=host, kind="api")
    if len(head) > 2 or not ACCOUNT_NUMBER_RE.fullmatch(head[-1]):
        raise UnknownHost(host)
    workspace = head[0] if len(head) == 2 else None
    if workspace is not None and not is_workspace_label(workspace):
        raise UnknownHost(host)
    return HostInfo(host=host, kind="tenant", account_number=head[-1], workspace=workspace)


def parse_host(raw: str) -> HostInfo:
    """Parse a raw ``Host`` header value against this deployment's root and environment."""
    return _parse_raw(raw, settings.ROOT_DOMAIN, settings.ENVIRONMENT)


@lru_cache(maxsize=4096)
def _parse_raw(raw: str, root: str, environment: str) -> HostInfo:
    """Memoised per raw header value (bounded, per process): a warm host costs one lookup.
    Malformed and unknown hosts raise, and exceptions are never cached."""
    return _parse(normalize_host(raw), root, environment)


def account_number_in_host(raw: str) -> str | None:
    """The account number in a tenant-shaped host of any root, or None."""
    try:
        host = normalize_host(raw)
    except MalformedHost:
        return None
    match = _ANY_TENANT_HOST_RE.fullmatch(host)
    return match.group("account") if match else None


def tenant_host(account_number: str | None = None, workspace: str | None = None) -> str:
    """The host name of an account (and workspace) on this deployment; the root for None."""
    if account_number is None:
        return settings.ROOT_DOMAIN
    labels = [workspace] if workspace else []
    labels += [account_number, settings.ENVIRONMENT, "api", settings.ROOT_DOMAIN]
    return ".".join(labels)


def tenant_url(request: HttpRequest, account_number: str | None, workspace: str | None = None) -> str:
    """An absolute URL of a tenant (workspace) home on the scheme and port the client used
    (:func:`tenancy.client_origin.client_origin`), never the server's bind port."""
    return f"{client_origin(request, tenant_host(account_number, workspace))}/"
