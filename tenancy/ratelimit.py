"""Failure limits: failed attempts counted per key in the shared cache, refused past a limit.

One counter per key (for example per account and client address), created by the first
failure and expiring ``window`` seconds later; counting stops once the limit is reached, so a
counter never outlives its window and each key reaches its limit at most once per window.
Used by the sign-in forms and the API-key authentication.

While the shared cache is down (django-redis ignores its errors and answers ``None``), the
failures are counted in a bounded per-process cache instead (:data:`local_counts`, Django's
local-memory cache), with a logged warning: a limit then holds per process (so at most
``limit`` × processes attempts per window) instead of lapsing. Both counts are consulted.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

logger = logging.getLogger(__name__)

#: The per-process fallback counters: bounded (LRU culling), each with its window's expiry.
local_counts = LocMemCache("tenancy-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})


def is_limited(key: str, limit: int) -> bool:
    """Whether ``key`` has reached ``limit`` failures in its current window."""
    return max(int(cache.get(key) or 0), int(local_counts.get(key) or 0)) >= limit


def _count(store: object, key: str, window: int) -> int | None:
    store.add(key, 0, window)  # type: ignore[attr-defined]
    try:
        count = store.incr(key)  # type: ignore[attr-defined]
    except ValueError:  # expired between add and incr
        store.set(key, 1, window)  # type: ignore[attr-defined]
        return 1
    return None if count is None else int(count)


def take_attempt(key: str, limit: int, window: int) -> bool:
    """Count one attempt under ``key`` *before* the secret is checked, in one atomic increment
    (Redis INCR; the local-memory cache's lock): True while it is within ``limit``, else the
    count is given back and False. Checking first and counting after the check let parallel
    guesses all pass the check before any was counted; now the limit'th + 1 attempt is refused
    whatever runs at the same time. An attempt that turns out right is given back
    (:func:`give_back`); a wrong one stays counted."""
    if record_failure(key, window) <= limit:
        return True
    give_back(key)
    return False


def give_back(key: str) -> None:
    """Take back one attempt counted by :func:`take_attempt` (it succeeded, or was refused)."""
    for store in (cache, local_counts):
        try:
            if store.decr(key) is not None:
                return
        except ValueError:  # expired meanwhile, or counted in the other store
            continue


def record_failure(key: str, window: int) -> int:
    """Count one failure under ``key`` (its window starts with the first one); the new count."""
    count = _count(cache, key, window)
    if count is not None:
        return count
    logger.warning("shared cache unavailable: counting failures per process (%s)", key.split(":", 1)[0])
    return int(_count(local_counts, key, window) or 0)
