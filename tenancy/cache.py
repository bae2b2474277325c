"""Two-level cache for hot lookups (tenant by number, user by id, membership, ...).

Level 1 is a bounded in-process LRU with a short TTL; level 2 is Django's cache (Redis in
production). Each key has a *version token* stored in level 2. A value is stored in both
levels tagged with the token it was loaded under and is only served while the token is
unchanged, so :meth:`TwoLevelCache.invalidate` (a new token plus a level-2 delete) is seen
by every process on its very next read, and a slow loader can never write back a stale
value. If level 2 is down, lookups fall through to the loader (the database).

That freshness costs one level-2 round trip per lookup. ``TENANCY_L1_REVALIDATE`` (seconds,
default 0 = check on every read) lets an operator trade it for speed: a level-1 entry whose
token was confirmed less than that long ago is served without asking level 2, so another
process's invalidation is seen within that interval (this process's own: immediately).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.core.cache import cache as django_cache
from django.db import transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")
KEY_PREFIX = "tenancy:v1:"
_MISSING = object()


def _token_ttl() -> int:
    """Lifetime of a version token in level 2.

    Tokens must expire: keys can come from request hosts (unknown account numbers are
    cached as misses), so tokens kept forever would grow level 2 without bound. An expired
    token is harmless: the next reader draws a new one, which matches no cached value in
    any process, so it only costs a reload.
    """
    return 2 * max(int(settings.TENANCY_L2_TTL), int(settings.TENANCY_L1_TTL), 1)


class Entry:
    """A level-1 entry: the value, the version token it was loaded under, and when that
    token was last confirmed against level 2 (monotonic seconds)."""

    __slots__ = ("expires", "token", "value", "confirmed")

    def __init__(self, expires: float, token: Any, value: Any, confirmed: float) -> None:
        self.expires = expires
        self.token = token
        self.value = value
        self.confirmed = confirmed


class LRU:
    """A thread-safe, size-bounded LRU map whose entries expire after ``ttl`` seconds."""

    def __init__(self, maxsize: int, ttl: float) -> None:
        self.maxsize = maxsize
        self.ttl = ttl
        self._data: OrderedDict[str, Entry] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Entry | None:
        """The live entry of ``key``, else None."""
        with self._lock:
            entry = self._data.get(key)
            if entry is None:
                return None
            if entry.expires < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return entry

    def set(self, key: str, token: Any, value: Any) -> None:
        now = time.monotonic()
        with self._lock:
            self._data[key] = Entry(now + self.ttl, token, value, now)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def pop(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def __len__(self) -> int:
        return len(self._data)


class TwoLevelCache:
    """Versioned read-through cache over an in-process LRU and Django's cache."""

    def __init__(self, maxsize: int | None = None, ttl: float | None = None) -> None:
        size = maxsize if maxsize is not None else settings.TENANCY_L1_MAXSIZE
        lifetime = ttl if ttl is not None else settings.TENANCY_L1_TTL
        self.l1 = LRU(size, lifetime)
        # Misses of lookups whose keys come from requests (unknown account numbers,
        # workspace labels): process-local only, in their own bound so a flood of them
        # cannot push real tenants out of ``l1``.
        self.misses = LRU(size, lifetime)

    @staticmethod
    def _keys(key: str) -> tuple[str, str]:
        return f"{KEY_PREFIX}ver:{key}", f"{KEY_PREFIX}val:{key}"

    def get_or_load(
        self,
        key: str,
        loader: Callable[[], T],
        *,
        invalidate: bool = False,
        miss_key: str | None = None,
    ) -> T:
        """The cached value of ``key``, loading (and caching) it when absent or stale.

        ``invalidate=True`` bypasses both levels, bumps the version everywhere and reloads.
        ``None`` results are cached too, so unknown keys cost one load per TTL. With
        ``miss_key`` (for keys an unauthenticated client chooses), a ``None`` result
        writes nothing to level 2: it is kept in this process's bounded ``misses`` map,
        tagged with ``miss_key``'s version token, and served while that token is unchanged;
        invalidating ``miss_key`` (e.g. on account creation) makes every process's misses
        of that family stale at once.
        """
        if invalidate:
            self.invalidate(key)
        if miss_key is not None:
            return self._get_or_load_missable(key, loader, miss_key)
        local = self.l1.get(key)
        revalidate = settings.TENANCY_L1_REVALIDATE
        if local is not None and revalidate > 0 and time.monotonic() - local.confirmed < revalidate:
            return local.value
        ver_key, val_key = self._keys(key)
        try:
            if local is not None:  # one round trip: is the local copy still current?
                token, stored = django_cache.get(ver_key), None
            else:  # one round trip for both the token and the shared value
                found = django_cache.get_many([ver_key, val_key])
                token, stored = found.get(ver_key), found.get(val_key)
        except Exception:  # noqa: BLE001 - any cache failure degrades to the database
            logger.warning("cache unavailable reading %s; using the database", ver_key)
            return loader()
        if token is None:
            token, stored = self._new_token(ver_key), None
        if local is not None and local.token == token:
            local.confirmed = time.monotonic()
            return local.value
        if local is not None:
            try:
                stored = django_cache.get(val_key)
            except Exception:  # noqa: BLE001
                stored = None
        if isinstance(stored, tuple) and len(stored) == 2 and stored[0] == token:
            value = stored[1]
        else:
            value = loader()
            try:
                django_cache.set(val_key, (token, value), settings.TENANCY_L2_TTL)
            except Exception:  # noqa: BLE001
                logger.warning("cache unavailable writing %s", val_key)
        if token is not None:
            self.l1.set(key, token, value)
        return value

    def _get_or_load_missable(self, key: str, loader: Callable[[], T], miss_key: str) -> T:
        """``get_or_load`` for a key whose misses must not write level 2 (see there)."""
        local = self.l1.get(key)
        if local is not None:  # a known value: the ordinary token check
            return self.get_or_load(key, loader)
        ver_key, val_key = self._keys(key)
        gen_key = self._keys(miss_key)[0]
        miss = self.misses.get(key)
        try:
            if miss is not None:
                if django_cache.get(gen_key) == miss.token:
                    return None  # type: ignore[return-value]
                self.misses.pop(key)
            found = django_cache.get_many([ver_key, val_key, gen_key])
        except Exception:  # noqa: BLE001 - any cache failure degrades to the database
            logger.warning("cache unavailable reading %s; using the database", ver_key)
            return loader()
        token, stored, gen = found.get(ver_key), found.get(val_key), found.get(gen_key)
        if token is not None and isinstance(stored, tuple) and len(stored) == 2 and stored[0] == token:
            self.l1.set(key, token, stored[1])
            return stored[1]  # type: ignore[no-any-return]
        if gen is None:
            gen = self._new_token(gen_key)  # one shared key per family, never per miss
        value = loader()
        if value is None:
            if gen is not None:
                self.misses.set(key, gen, None)
            return value
        if token is None:
            # No token was read before the load. Draw one now; if another process already
            # set one, an invalidation may have raced the load: serve it, cache nothing.
            token = secrets.token_hex(8)
            try:
                if not django_cache.add(ver_key, token, _token_ttl()):
                    return value
            except Exception:  # noqa: BLE001
                return value
        try:
            django_cache.set(val_key, (token, value), settings.TENANCY_L2_TTL)
        except Exception:  # noqa: BLE001
            logger.warning("cache unavailable writing %s", val_key)
        self.l1.set(key, token, value)
        return value

    @staticmethod
    def _new_token(ver_key: str) -> str | None:
        token = secrets.token_hex(8)
        try:
            if django_cache.add(ver_key, token, _token_ttl()):
                return token
            return django_cache.get(ver_key)
        except Exception:  # noqa: BLE001
            return None

    def invalidate(self, *keys: str) -> None:
        """Make ``keys`` stale in every process: new version tokens, level-2 values dropped."""
        for key in keys:
            self.l1.pop(key)
            self.misses.pop(key)
        if not keys:
            return
        try:
            django_cache.set_many(
                {self._keys(k)[0]: secrets.token_hex(8) for k in keys}, timeout=_token_ttl()
            )
            django_cache.delete_many([self._keys(k)[1] for k in keys])
        except Exception:  # noqa: BLE001
            logger.warning("cache unavailable invalidating %s", ", ".join(keys))

    def clear_local(self) -> None:
        """Drop this process's level-1 entries (level 2 is left alone)."""
        self.l1.clear()
        self.misses.clear()


tenant_cache = TwoLevelCache()


def invalidate_with_commit(*keys: str) -> None:
    """Invalidate ``keys`` now and, inside a transaction, again once it commits: another
    process may reload the old row (or cache a miss) between the save and the commit."""
    tenant_cache.invalidate(*keys)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(lambda: tenant_cache.invalidate(*keys))


class CacheOutageLogFilter(logging.Filter):
    """One WARNING line per process and ``interval`` instead of a traceback per cache call.

    With ``IGNORE_EXCEPTIONS`` django-redis logs every failed cache call as an ERROR with a
    full traceback on ``DJANGO_REDIS_LOGGER`` (this module's logger): while Redis is down that
    is several tracebacks per request. Attached to that logger (``settings.LOGGING``), this
    filter turns the first such record into a one-line warning, drops the others for
    ``interval`` seconds and reports how many it dropped with the next one. Other records on
    the logger pass unchanged.
    """

    def __init__(self, interval: float = 30.0) -> None:
        super().__init__()
        self.interval = interval
        self._lock = threading.Lock()
        self._quiet_until = float("-inf")
        self._dropped = 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != "Exception ignored" or not record.exc_info:
            return True
        now = time.monotonic()
        with self._lock:
            if now < self._quiet_until:
                self._dropped += 1
                return False
            dropped, self._dropped = self._dropped, 0
            self._quiet_until = now + self.interval
        if not logging.getLogger(record.name).isEnabledFor(logging.WARNING):
            return False
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg = "cache unavailable, serving from the database: %s%s"
        record.args = (
            record.exc_info[1],
            f" ({dropped} more cache errors since the last report)" if dropped else "",
        )
        record.exc_info, record.exc_text = None, None
        return True
