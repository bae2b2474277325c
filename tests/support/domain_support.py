"""Helpers of the custom-domain tests: a verified domain without DNS, the cache's bucket keys."""

from __future__ import annotations

from django.core.cache import cache

from accounts.models import UserProfile
from domains.models import Domain


def verified_domain(owner: UserProfile, hostname: str) -> Domain:
    """A domain of ``owner``'s account marked verified directly (tests of routing, not DNS)."""
    domain = Domain.objects.filter(hostname=hostname).first()
    if domain is None:
        domain = Domain(user_profile=owner, hostname=hostname)
        domain.save()
    domain.status, domain.verified_at = Domain.VERIFIED, domain.created_at
    domain.save(update_fields=["status", "verified_at"])
    return domain


def bucket_keys() -> set[str]:
    """Level-2 keys of the domain routing cache (locmem or django-redis)."""
    keys = cache.keys("*") if hasattr(cache, "keys") else list(cache._cache)  # type: ignore[attr-defined]
    return {k for k in map(str, keys) if "domains:bucket:" in k}
