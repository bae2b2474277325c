"""Pushed invalidations for :mod:`tenancy.cache`: Redis pub/sub, one subscriber per process.

An invalidation publishes its keys (never values) on one channel named after the cache's
key prefix and Redis db, so test runs sharing a server on different dbs stay apart. Each
process runs one daemon thread, started lazily on first use and again after a fork (an
``os.register_at_fork`` hook forgets the parent's), that holds a dedicated connection
subscribed to that channel and evicts the keys it receives from level 1.

:meth:`PushChannel.active` says whether a level-1 entry may be served without asking
Redis. It is true only while the subscription is confirmed AND nothing is waiting to be
applied: the subscriber's socket has no unread bytes (a pending message, or the EOF of a
killed connection or restarted server, makes it readable), the thread is not in the middle
of applying messages, and its heartbeat (a PING answered on the subscribed connection every
``heartbeat`` seconds) is recent, which also catches a stalled thread and a silently dead
link. Whenever it is false the cache falls back to checking each key's version token in
level 2. A connection that answers no PING for ``HUNG_AFTER`` heartbeats (a frozen server,
a partition) is given up and replaced. On every (re)subscription, before ``active`` turns
true, the listener's level 1 is dropped: messages published while unsubscribed were lost,
and an invalidation that could not reach Redis at all left no new token to check against,
so each entry is loaded again (from level 2, or the database for misses).

Chosen over Redis client-side caching (``CLIENT TRACKING``): tracking needs RESP3 and
redis-py's cache support, which only work with Redis >= 7.4 (Debian 12 ships 7.0) and
track the values' keys, while here the keys that matter are version tokens read with
django-redis; pub/sub works on Redis 6/7, Heroku Redis and ``rediss://`` unchanged.
"""

from __future__ import annotations

import json
import logging
import os
import select
import threading
import time
import weakref
from typing import Any, Protocol

from django.conf import settings

from . import metrics

logger = logging.getLogger(__name__)

BACKOFF_MIN, BACKOFF_MAX = 0.05, 1.0  # seconds between reconnection attempts
HUNG_AFTER = 3.0  # heartbeats without a PONG after which the connection is given up
CLIENT_NAME = "tenancy-invalidations"  # shown in CLIENT LIST; CLIENT KILL can target it


class Listener(Protocol):
    """What the channel drives: the two-level cache."""

    def evict_local(self, keys: list[str]) -> None: ...

    def clear_local(self) -> None: ...


class Subscription:
    """The state of one subscriber thread (one generation; replaced on settings change)."""

    def __init__(self, channel: str, connection_factory: Any) -> None:
        self.channel = channel
        self.connection_factory = connection_factory
        self.healthy = False  # subscription confirmed on the current connection
        self.busy = False  # reading/applying messages right now
        self.sock: Any = None
        self.poller: Any = None  # select.poll() on ``sock``: cheaper per read than select()
        self.last_pong = float("-inf")
        self.stopped = threading.Event()
        self.unpaused = threading.Event()
        self.unpaused.set()


class PushChannel:
    """Publishes invalidated keys and keeps one subscriber thread per process."""

    def __init__(self, listener: Listener, heartbeat: float = 1.0) -> None:
        self.listener = listener
        self.heartbeat = heartbeat
        self._lock = threading.Lock()
        self._started = False  # in this process (a fork forgets it: see forked())
        self._sub: Subscription | None = None
        _after_fork.add(self)

    # --- readers -----------------------------------------------------------------------
    def active(self) -> bool:
        """True when a level-1 entry may be served with no Redis round trip (see module).

        On the hot path of every cached read: one ``poll`` of the subscriber's socket, no
        other system call (a fork is noticed by :func:`os.register_at_fork`, not getpid()).
        """
        if not self._started:
            self._start()
            return False
        sub = self._sub
        if sub is None or not sub.healthy:
            return False
        poller = sub.poller
        try:  # first the socket, then ``busy``: the thread sets busy before it reads
            if poller is None or poller.poll(0):  # data, EOF, hang-up or a closed socket
                return False
        except (OSError, ValueError):  # closed under us: the connection is being replaced
            return False
        except RuntimeError:  # "concurrent poll() invocation": another thread is polling it
            return False  # (gthread workers): this read checks its token instead
        if sub.busy or not sub.healthy:  # also catches a descriptor reused after a close
            return False
        return time.monotonic() - sub.last_pong < 2.5 * self.heartbeat

    def forked(self) -> None:
        """In a forked child: the parent's subscriber thread and connection are not ours;
        the next :meth:`active` starts this process's own."""
        self._lock = threading.Lock()  # the parent may have held it while forking
        self._sub, self._started = None, False

    def publish(self, keys: list[str]) -> None:
        """Tell every process to evict ``keys`` (after level 2 was updated)."""
        sub = self._sub  # None until started here (a fork forgets the parent's)
        if sub is None:
            target = _target()
            if target is None:
                return
            channel = target[0]
        else:
            channel = sub.channel
        try:
            from django_redis import get_redis_connection

            client = get_redis_connection("default")
            client.publish(channel, json.dumps(keys))
            # Delivery barrier: Redis writes the publisher's reply and the subscribers'
            # messages in the same event-loop pass, publisher possibly first. A command it
            # answers after that pass proves every subscriber's copy has been written, so
            # once this returns, a request another process receives afterwards finds the
            # message on its subscriber socket (and falls back to Redis until applied).
            client.ping()
        except Exception:  # noqa: BLE001 - the token bump in level 2 still holds
            logger.warning("could not publish the invalidation of %s", ", ".join(keys))

    # --- lifecycle ---------------------------------------------------------------------
    def _start(self) -> None:
        with self._lock:
            if self._started:
                return
            target = _target()
            if target is not None:
                sub = Subscription(*target)
                threading.Thread(
                    target=self._run, args=(sub,), name="tenancy-invalidations", daemon=True
                ).start()
                self._sub = sub
            self._started = True

    def reset(self) -> None:
        """Stop this process's subscriber; the next :meth:`active` starts one for the
        current settings (called when ``CACHES`` changes, e.g. in tests)."""
        with self._lock:
            if self._sub is not None:
                self._sub.stopped.set()
                self._sub.unpaused.set()
            self._sub, self._started = None, False

    def pause(self) -> None:
        """For tests: stall the subscriber thread (it stops reading and heartbeating)."""
        if self._sub is not None:
            self._sub.unpaused.clear()

    def resume(self) -> None:
        if self._sub is not None:
            self._sub.unpaused.set()

    # --- the subscriber thread -----------------------------------------------------------
    def _run(self, sub: Subscription) -> None:
        backoff, reported, subscribed_before = BACKOFF_MIN, False, False
        while not sub.stopped.is_set():
            conn = None
            try:
                conn = sub.connection_factory()
                self._subscribe(sub, conn)
                metrics.PUSH_SUBSCRIBED.set(1)
                if subscribed_before:
                    metrics.PUSH_RECONNECTS.inc()
                subscribed_before = True
                if reported:
                    logger.warning("cache invalidation push restored")
                backoff, reported = BACKOFF_MIN, False
                self._listen(sub, conn)
            except Exception as exc:  # noqa: BLE001 - any failure: fall back, reconnect
                if not reported and not sub.stopped.is_set():
                    logger.warning(
                        "cache invalidation push unavailable (%s); every cached read checks "
                        "Redis until it is back", exc
                    )
                    reported = True
            finally:
                sub.healthy = False
                metrics.PUSH_SUBSCRIBED.set(0)
                self.listener.evict_local([])  # bumps the sequence: loads in flight untrusted
                if conn is not None:
                    try:
                        conn.disconnect()
                    except Exception:  # noqa: BLE001, S110
                        pass
            sub.stopped.wait(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX)

    def _subscribe(self, sub: Subscription, conn: Any) -> None:
        conn.connect()
        conn.send_command("CLIENT", "SETNAME", CLIENT_NAME)
        conn.read_response(push_request=True)
        conn.send_command("SUBSCRIBE", sub.channel)
        reply = conn.read_response(push_request=True)  # RESP3 (redis-py's default): a push
        if not (isinstance(reply, list) and _text(reply[0]) == "subscribe"):
            raise ConnectionError(f"unexpected SUBSCRIBE reply {reply!r}")
        sub.sock = conn._sock  # the raw socket, polled by readers (never read by them)
        poller = select.poll()
        poller.register(sub.sock, select.POLLIN)
        sub.poller = poller
        # Messages published while we were not subscribed are lost: level 1 is dropped (a
        # miss or value kept from before is loaded again, from level 2 or the database).
        self.listener.clear_local()
        sub.last_pong = time.monotonic()
        sub.healthy = True

    def _listen(self, sub: Subscription, conn: Any) -> None:
        next_ping = time.monotonic() + self.heartbeat
        while not sub.stopped.is_set():
            wait = max(0.0, next_ping - time.monotonic())
            readable = select.select([sub.sock], [], [], wait)[0]
            sub.unpaused.wait()  # test hook: a stalled thread reads nothing
            if readable:
                sub.busy = True  # before consuming a byte (see active())
                try:
                    while True:
                        self._handle(sub, conn.read_response(push_request=True))
                        if not conn.can_read(timeout=0):
                            break
                finally:
                    sub.busy = False
            now = time.monotonic()
            if now - sub.last_pong > HUNG_AFTER * self.heartbeat:
                # no PONG: a frozen server or a partition; a fresh connection (and a new
                # subscription, which drops level 1) rather than waiting on this one
                raise ConnectionError(f"no answer to PING for {now - sub.last_pong:.1f} s")
            if now >= next_ping:
                conn.send_command("PING")
                next_ping = time.monotonic() + self.heartbeat

    def _handle(self, sub: Subscription, reply: Any) -> None:
        if isinstance(reply, bytes | str) and _text(reply).upper() == "PONG":  # RESP3's PING
            sub.last_pong = time.monotonic()
            return
        if not isinstance(reply, list) or not reply:
            raise ConnectionError(f"unexpected reply {reply!r}")
        kind = _text(reply[0])
        if kind == "message":
            keys = json.loads(reply[2])
            self.listener.evict_local([str(k) for k in keys])
        elif kind == "pong":
            sub.last_pong = time.monotonic()
        else:
            raise ConnectionError(f"unexpected message {kind!r}")


_after_fork: weakref.WeakSet[PushChannel] = weakref.WeakSet()


def _forked_child() -> None:
    for channel in list(_after_fork):
        channel.forked()


if hasattr(os, "register_at_fork"):  # POSIX; gunicorn and multiprocessing fork with os.fork
    os.register_at_fork(after_in_child=_forked_child)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _target() -> tuple[str, Any] | None:
    """``(channel, connection factory)`` for the default cache, or None when it is not
    django-redis or push is switched off (then every read checks its version token)."""
    if not settings.TENANCY_PUSH_INVALIDATION:
        return None
    from django.core.cache import caches

    backend = caches["default"]
    try:
        from django_redis.cache import RedisCache
    except ImportError:  # pragma: no cover - django-redis is a dependency
        return None
    if not isinstance(backend, RedisCache):
        return None
    try:
        pool = backend.client.get_client(write=True).connection_pool
    except Exception:  # noqa: BLE001
        logger.warning("cache invalidation push: no Redis client; reads check Redis")
        return None
    db = pool.connection_kwargs.get("db", 0)
    channel = f"{backend.key_prefix}:tenancy:invalidate:db{db}"

    def connection() -> Any:
        # A dedicated connection (not from the pool) with the pool's address, TLS and
        # socket timeouts; the thread waits with select(), so the timeout bounds each read.
        return pool.connection_class(**pool.connection_kwargs)

    return channel, connection
