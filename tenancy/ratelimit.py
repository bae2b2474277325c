"""Failure limits: failed attempts counted per key in the shared cache, refused past a limit.

One counter per key (for example per account and client address), created by the first
failure and expiring ``window`` seconds later; counting stops once the limit is reached, so a
counter never outlives its window and each key reaches its limit at most once per window.
Used by the sign-in forms and the API-key authentication. A cache outage counts nothing and
refuses nothing (the cache's own outage handling logs it).
"""

from __future__ import annotations

from django.core.cache import cache


def is_limited(key: str, limit: int) -> bool:
    """Whether ``key`` has reached ``limit`` failures in its current window."""
    return int(cache.get(key) or 0) >= limit


def record_failure(key: str, window: int) -> int:
    """Count one failure under ``key`` (its window starts with the first one); the new count."""
    cache.add(key, 0, window)
    try:
        return int(cache.incr(key) or 0)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        return 1
