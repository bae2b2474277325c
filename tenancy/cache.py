"""Two-level cache for hot lookups (tenant by number, user by id, membership, ...).

Level 1 is a bounded in-process LRU with a TTL (cachetools); level 2 is Django's cache
(Redis in production). Each key has a *version token* stored in level 2. A value is stored
in both levels tagged with the token it was loaded under and is only served while the token
is unchanged, so :meth:`TwoLevelCache.invalidate` (a new token plus a level-2 delete) makes
every process reload, and a slow loader can never write back a stale value. If level 2 is
down, lookups fall through to the loader (the database).

On Redis, invalidations are also pushed (:mod:`tenancy.push`): while this process's
subscription is confirmed healthy, a level-1 hit is served with no round trip at all; at
any other moment (not yet subscribed, connection lost, message pending, stalled thread)
each read checks its key's token in level 2 as before. An entry is trusted without that
check only if no eviction happened between the start of its load (or check) and its store
into level 1 (a sequence number), so a push that overtakes a slow reader cannot leave the
reader's stale value behind. With the in-process default cache there is no push and the
token check is an in-memory read.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from cachetools import TTLCache
from django.conf import settings
from django.core.cache import cache as django_cache
from django.core.signals import setting_changed
from django.db import transaction

from . import metrics, redis_breaker
from .push import PushChannel
from .wall import crossing

logger = logging.getLogger(__name__)
T = TypeVar("T")
KEY_PREFIX = "tenancy:v1:"
EVERYTHING = "*"  # a pushed "key" that clears level 1 (never a real key)
PENDING_MAX = 10_000  # invalidations kept for a replay (then: drop every token instead)


def _token_ttl() -> int:
    """Lifetime of a version token in level 2.

    Tokens must expire, or level 2 would keep one per key ever looked up. An expired token
    is harmless: the next reader draws a new one, which matches no cached value in any
    process, so it only costs a reload.
    """
    return 2 * max(int(settings.TENANCY_L2_TTL), int(settings.TENANCY_L1_TTL), 1)


def _load_across_tenants(loader: Callable[[], T]) -> T:
    """Run a cache loader across the database wall: keys name ids, not the asking tenant, so
    what a loader finds must not depend on who asked first (``tenancy.wall``)."""
    with crossing("cached loader"):
        return loader()


def _tagged(stored: Any, token: Any) -> bool:
    return isinstance(stored, tuple) and len(stored) == 2 and stored[0] == token


class Entry:
    """A level-1 entry: the value, the version token it was loaded under, and whether it
    may be served without a token check while push is active."""

    __slots__ = ("token", "value", "trusted")

    def __init__(self, token: Any, value: Any, trusted: bool) -> None:
        self.token = token
        self.value = value
        self.trusted = trusted


class TwoLevelCache:
    """Versioned read-through cache over an in-process LRU and Django's cache."""

    def __init__(
        self,
        maxsize: int | None = None,
        ttl: float | None = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        size = maxsize if maxsize is not None else settings.TENANCY_L1_MAXSIZE
        lifetime = ttl if ttl is not None else settings.TENANCY_L1_TTL
        self.l1: TTLCache[str, Entry] = TTLCache(size, lifetime, timer=timer)
        # Misses of lookups whose keys come from requests (unknown account numbers,
        # workspace labels): process-local only, in their own bound so a flood of them
        # cannot push real tenants out of ``l1``.
        self.misses: TTLCache[str, Entry] = TTLCache(size, lifetime, timer=timer)
        self._miss_keys: set[str] = set()
        self._lock = threading.Lock()  # cachetools maps are not thread-safe
        self._seq = 0  # bumped by every local eviction, pushed or not
        # invalidations that may not have reached Redis, written again once it answers
        self._pending: set[str] = set()
        self._pending_everything = False
        self.push = PushChannel(self)

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
        elif self._pending and redis_breaker.closed():
            self._replay_pending()
        pushed = self.push.active()
        seq = self._seq  # before any read: an eviction from now on voids trust
        with self._lock:  # [] not .get(): TTLCache.get costs two lookups
            try:
                local, miss = self.l1[key], None
            except KeyError:
                local = None
                try:
                    miss = self.misses[key] if miss_key is not None else None
                except KeyError:
                    miss = None
        if pushed:
            if local is not None and local.trusted:
                metrics.L1_HIT.inc()
                return local.value  # type: ignore[no-any-return]
            if miss is not None and miss.trusted:
                return None  # type: ignore[return-value]
        if local is not None or miss is not None:
            check_key = self._keys(key if miss is None else miss_key)[0]  # type: ignore[arg-type]
            try:
                token = django_cache.get(check_key)
            except Exception:  # noqa: BLE001 - any cache failure degrades to the database
                logger.warning("cache unavailable reading %s; using the database", check_key)
                return _load_across_tenants(loader)
            hit = local if local is not None else miss
            if token is not None and token == hit.token:  # type: ignore[union-attr]
                self._store(key, hit, pushed, seq, misses=miss is not None)  # type: ignore[arg-type]
                metrics.L1_HIT.inc()
                return hit.value  # type: ignore[union-attr, no-any-return]
        return self._load(key, loader, miss_key, pushed, seq)

    def _load(
        self, key: str, loader: Callable[[], T], miss_key: str | None, pushed: bool, seq: int
    ) -> T:
        """Level 2, else the loader; stores the result in level 1 (and 2 unless a miss)."""
        ver_key, val_key = self._keys(key)
        gen_key = self._keys(miss_key)[0] if miss_key is not None else None
        try:  # one round trip for the token, the shared value (and the misses' token)
            found = django_cache.get_many([ver_key, val_key] + ([gen_key] if gen_key else []))
        except Exception:  # noqa: BLE001
            logger.warning("cache unavailable reading %s; using the database", ver_key)
            return _load_across_tenants(loader)
        token, stored = found.get(ver_key), found.get(val_key)
        if not (token is not None and _tagged(stored, token)):
            metrics.L2_MISS.inc()
        if token is not None and _tagged(stored, token):
            value = stored[1]  # type: ignore[index]
            self._store(key, Entry(token, value, False), pushed, seq)
            metrics.L2_HIT.inc()
            return value  # type: ignore[no-any-return]
        if gen_key is None:
            if token is None:
                token = self._new_token(ver_key)
            value = _load_across_tenants(loader)
        else:
            gen = found.get(gen_key) or self._new_token(gen_key)  # one key per family
            value = _load_across_tenants(loader)
            if value is None:  # a miss: this process only, never level 2
                if gen is not None:
                    self._miss_keys.add(miss_key)  # type: ignore[arg-type]
                    self._store(key, Entry(gen, None, False), pushed, seq, misses=True)
                return value  # type: ignore[return-value]
            if token is None:
                # No token was read before the load. Draw one now; if another process set
                # one meanwhile, an invalidation may have raced the load: cache nothing.
                token = secrets.token_hex(8)
                try:
                    if not django_cache.add(ver_key, token, _token_ttl()):
                        return value
                except Exception:  # noqa: BLE001
                    return value
        if token is None:  # level 2 unavailable: nothing can vouch for the value later
            return value
        try:
            django_cache.set(val_key, (token, value), settings.TENANCY_L2_TTL)
        except Exception:  # noqa: BLE001
            logger.warning("cache unavailable writing %s", val_key)
        self._store(key, Entry(token, value, False), pushed, seq)
        return value

    def _store(self, key: str, entry: Entry, pushed: bool, seq: int, misses: bool = False) -> None:
        """Put ``entry`` in level 1, trusted only if push was active when the read started
        and no eviction has happened since (checked under the lock evictions take)."""
        with self._lock:
            entry.trusted = pushed and seq == self._seq
            (self.misses if misses else self.l1)[key] = entry

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
        """Make ``keys`` stale in every process: new version tokens, level-2 values dropped,
        and the keys pushed to the other processes' level 1."""
        self.evict_local(list(keys))
        if not keys:
            return
        if self._pending:
            self._replay_pending()
        self._write_invalidation(list(keys))

    def _write_invalidation(self, keys: list[str], everything: bool = False) -> None:
        """New tokens and dropped values in level 2, and the keys pushed to the other
        processes (``everything``: every token dropped, every process's level 1 cleared).

        Redis errors are ignored by django-redis (``IGNORE_EXCEPTIONS``), and the breaker
        may not even ask Redis: if any command failed meanwhile, the keys are kept and
        written again once Redis answers (:meth:`_replay_pending`), so a change made while
        this process could not reach Redis is not served stale by the others afterwards."""
        failures = redis_breaker.failures()
        try:
            if everything:
                django_cache.delete_pattern(f"{KEY_PREFIX}ver:*")  # type: ignore[attr-defined]
            else:
                django_cache.set_many(
                    {self._keys(k)[0]: secrets.token_hex(8) for k in keys}, timeout=_token_ttl()
                )
                django_cache.delete_many([self._keys(k)[1] for k in keys])
        except Exception:  # noqa: BLE001
            logger.warning("cache unavailable invalidating %s", ", ".join(keys[:10]))
            self._keep_pending(keys, everything)
            return
        self.push.publish([EVERYTHING] if everything else keys)
        if redis_breaker.failures() != failures:
            self._keep_pending(keys, everything)

    def _keep_pending(self, keys: list[str], everything: bool = False) -> None:
        """Remember invalidations that may not have reached Redis (bounded: past
        ``PENDING_MAX`` keys, the replay drops every token instead)."""
        with self._lock:
            if everything or len(self._pending) + len(keys) > PENDING_MAX:
                self._pending_everything = True
                self._pending.clear()
            if not self._pending_everything:
                self._pending.update(keys)
            else:
                self._pending.add(EVERYTHING)

    def _replay_pending(self) -> None:
        """Write the invalidations kept by :meth:`_write_invalidation` again (once Redis
        answers; they are kept again if it still does not)."""
        with self._lock:
            keys, everything = sorted(self._pending - {EVERYTHING}), self._pending_everything
            self._pending, self._pending_everything = set(), False
        if keys or everything:
            logger.warning("replaying %s invalidation(s) that could not reach Redis",
                           "every" if everything else len(keys))
            self._write_invalidation(keys, everything)

    def stamp(self) -> int | None:
        """A mark of this process's level 1 as it is now, for values *derived* from several
        lookups (the tenant middleware's host routes); None when push is not active.

        Take it before the lookups; the derived value may be kept while
        :meth:`unchanged_since` holds: push still active and nothing evicted since (pushed,
        local, or level 1 dropped on resubscription), so each of those lookups would
        answer the same. Only lookups through this cache may go into such a value.
        """
        return self._seq if self.push.active() else None

    def unchanged_since(self, stamp: int | None) -> bool:
        """True while a value derived after ``stamp`` (see :meth:`stamp`) is still exact."""
        return stamp is not None and stamp == self._seq and self.push.active()

    def evict_local(self, keys: list[str]) -> None:
        """Drop ``keys`` from this process's level 1 (a pushed or local invalidation). Any
        call, even with no keys, voids the trust of loads in flight."""
        if EVERYTHING in keys:
            self.clear_local()
            return
        with self._lock:
            self._seq += 1
            for key in keys:
                self.l1.pop(key, None)
                self.misses.pop(key, None)
                if key in self._miss_keys:  # every miss of that family is stale
                    self.misses.clear()

    def clear_local(self) -> None:
        """Drop this process's level-1 entries (level 2 is left alone)."""
        with self._lock:
            self._seq += 1
            self.l1.clear()
            self.misses.clear()


tenant_cache = TwoLevelCache()


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    """Tests swap ``CACHES``: subscribe again for the new cache, forget level 1."""
    if setting in {"CACHES", "TENANCY_PUSH_INVALIDATION"}:
        tenant_cache.push.reset()
        tenant_cache.clear_local()
        tenant_cache._pending, tenant_cache._pending_everything = set(), False
        redis_breaker.reset()


setting_changed.connect(_settings_changed)


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
        if not redis_breaker.closed():
            return False  # the breaker opened on this error, or refused the call: said so
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
