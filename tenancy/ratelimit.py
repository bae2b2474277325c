"""Failure limits: failed attempts counted per key in the shared cache, refused past a limit.

One counter per key (for example per account and client address), created by the first
failure and expiring ``window`` seconds later; counting stops once the limit is reached, so a
counter never outlives its window and each key reaches its limit at most once per window.
Used by the sign-in forms and the API-key authentication.

While the shared cache is down (django-redis ignores its errors and answers ``None``), the
failures are counted in a bounded per-process cache instead (:data:`local_counts`, Django's
local-memory cache), with a logged warning: a limit then holds per process (so at most
``limit`` × processes attempts per window) instead of lapsing. Both counts are consulted.

allauth's rate limits (sign-up, reset, invitation sends, MFA codes) degrade the same way:
their cache is :data:`shared_or_local` (installed by ``accounts.allauth_compat``), so an
outage neither refuses every attempt (allauth could not take its lock: a 429 that blames the
client, counted as a refusal by the brute-force alert) nor lifts the limits.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache
from django.core.cache.backends.locmem import LocMemCache

from . import redis_breaker

logger = logging.getLogger(__name__)

#: The per-process fallback counters: bounded (LRU culling), each with its window's expiry.
local_counts = LocMemCache("tenancy-ratelimit-fallback", {"OPTIONS": {"MAX_ENTRIES": 10_000}})
#: At most one "counting per process" warning per kind of limit and this many seconds.
WARNING_INTERVAL = 30.0
_warned: dict[str, float] = {}


def _warn_unavailable(kind: str) -> None:
    now = time.monotonic()
    if now - _warned.get(kind, -WARNING_INTERVAL) >= WARNING_INTERVAL:
        _warned[kind] = now
        logger.warning("shared cache unavailable: counting per process (%s)", kind)


class SharedOrLocal:
    """The cache calls a rate limiter makes (``add``, ``get``, ``set``, ``delete``), answered
    by the shared cache, or by :data:`local_counts` when that call did not reach Redis (the
    breaker's failure count moved: django-redis hides the error itself)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        failures = redis_breaker.failures()
        answer = getattr(cache, name)(*args, **kwargs)
        if redis_breaker.failures() == failures:
            return answer
        _warn_unavailable(self.kind)
        return getattr(local_counts, name)(*args, **kwargs)

    def add(self, key: str, value: Any, timeout: Any = None) -> Any:
        return self._call("add", key, value, timeout=timeout)

    def get(self, key: str, default: Any = None) -> Any:
        return self._call("get", key, default)

    def set(self, key: str, value: Any, timeout: Any = None) -> Any:
        return self._call("set", key, value, timeout=timeout)

    def delete(self, key: str) -> Any:
        return self._call("delete", key)


def reset_fallback() -> None:
    """Forget the per-process counts and warnings (tests; a process that starts over)."""
    local_counts.clear()
    _warned.clear()


#: The cache of allauth's rate limits.
shared_or_local = SharedOrLocal("allauth")


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
    _warn_unavailable(key.split(":", 1)[0])
    return int(_count(local_counts, key, window) or 0)
