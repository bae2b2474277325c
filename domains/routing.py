"""Custom domain -> account (and workspace) through the two-level cache, 0 queries when warm.

Routing entries are cached per *bucket* of hostnames (``hostnames.bucket_of``), never per
requested host: any host a client sends lands in one of ``BUCKETS`` keys, so unknown hosts
cannot grow the shared cache (level 2) however many distinct names arrive, and repeated
unknown names cost no query while their bucket is cached. :mod:`domains.signals`
invalidates a bucket whenever a domain in it (or the workspace it serves) changes.

A bucket is loaded from the claim table first (:class:`~domains.models.HostnameClaim`, a
reference table: hostname -> account without knowing the account), then the domains of those
accounts only, so on a database distributed by ``account_id`` the second read touches only the
accounts' shards. An empty bucket (most unknown hosts) costs the first read alone.
"""

from __future__ import annotations

from typing import NamedTuple

from tenancy.cache import tenant_cache
from tenancy.hosts import MalformedHost, normalize_host

from .cache_keys import bucket_key, canonical_key
from .hostnames import bucket_of
from .models import Domain, HostnameClaim


class DomainRoute(NamedTuple):
    """What the middleware needs of one domain."""

    account_id: int
    workspace: str | None
    verified: bool


class CanonicalDomain(NamedTuple):
    """The account's canonical verified domain and the workspace it serves (None: home)."""

    hostname: str
    workspace: str | None


def _load_bucket(bucket: int) -> dict[str, DomainRoute]:
    claims = dict(HostnameClaim.objects.filter(bucket=bucket).values_list("hostname", "account_id"))
    if not claims:
        return {}
    rows = Domain.objects.filter(account_id__in=set(claims.values()), hostname__in=list(claims)).values_list(
        "hostname", "account_id", "workspace__name", "status"
    )
    return {host: DomainRoute(account, ws, status == Domain.VERIFIED)
            for host, account, ws, status in rows if claims.get(host) == account}


def get_domain_route(host: str, invalidate: bool = False) -> DomainRoute | None:
    """The route of a normalised host registered as a custom domain (any status), or None."""
    bucket = bucket_of(host)
    routes = tenant_cache.get_or_load(bucket_key(bucket), lambda: _load_bucket(bucket),
                                      invalidate=invalidate)
    return routes.get(host)


def is_verified_host(host: str) -> bool:
    """True when ``host`` is a verified custom domain (the ``ALLOWED_HOSTS`` predicate)."""
    try:
        host = normalize_host(host)
    except MalformedHost:
        return False
    route = get_domain_route(host)
    return route is not None and route.verified


def get_canonical_domain(account_id: int, invalidate: bool = False) -> CanonicalDomain | None:
    """The account's canonical domain while it is verified, else None."""
    def load() -> CanonicalDomain | None:
        row = (
            Domain.objects.filter(account_id=account_id, is_canonical=True, status=Domain.VERIFIED)
            .values_list("hostname", "workspace__name").first()
        )
        return CanonicalDomain(*row) if row else None

    return tenant_cache.get_or_load(canonical_key(account_id), load, invalidate=invalidate)
