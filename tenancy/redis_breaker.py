"""A circuit breaker in front of Redis: a Redis that does not answer costs one timeout per
process and while, not one per cache call.

A Redis that refuses connections fails each call at once, but one that accepts them and never
answers (frozen, a network partition, a full instance) makes each call wait out
``SOCKET_TIMEOUT``, and a request makes many cache calls. django-redis has no breaker of its
own, so its client class is :class:`BreakerRedis` (``REDIS_CLIENT_CLASS`` in the cache's
``OPTIONS``): every command and pipeline goes through one pybreaker ``CircuitBreaker`` per
process. The first timeout (connecting or reading) opens it; while it is open, commands raise
:class:`RedisUnavailable` (a redis-py ``ConnectionError``) without touching the network, which
django-redis's ``IGNORE_EXCEPTIONS`` turns into a cache miss, so requests are served from the
database as when Redis is down. After ``REDIS_BREAKER_MIN`` seconds one command is let through
(half-open): if it is answered the breaker closes, else it opens again for twice as long, up to
``REDIS_BREAKER_MAX``. Opening and closing are logged once each (``tenancy.cache``), and
``/healthz`` shows the state (:func:`state`), and so do the metrics
``smarter_cache_circuit_open`` and ``smarter_cache_circuit_openings_total``.

pybreaker holds its lock while a command runs, so a process sends one command at a time: the
web processes are single-threaded (gunicorn's sync workers), and while Redis hangs only one
thread waits out the timeout, the others then find the breaker open. The push subscriber
(:mod:`tenancy.push`) has its own connection and its own reconnection loop, outside the breaker.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import pybreaker
import redis
from django.conf import settings
from redis.client import Pipeline

from . import metrics

logger = logging.getLogger("tenancy.cache")
T = TypeVar("T")
#: What opens the breaker: a command or connection that timed out. A refused connection fails
#: at once and costs nothing, so it does not (Redis is then asked again at once when it is back).
TRIPS = (redis.exceptions.TimeoutError,)
#: What :func:`failures` counts: any command that did not reach Redis or got no answer.
FAILURES = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class RedisUnavailable(redis.exceptions.ConnectionError):
    """Raised instead of sending a command while the breaker is open."""


class _Breaker(pybreaker.CircuitBreakerListener):
    """The process's breaker, its growing open interval and its two log lines."""

    def __init__(self) -> None:
        self.breaker = pybreaker.CircuitBreaker(
            fail_max=1, reset_timeout=1.0, throw_new_error_on_trip=False,
            exclude=[lambda exc: not isinstance(exc, TRIPS)], listeners=[self],
            name="redis",
        )
        self.opened_at = 0.0  # monotonic: when it last opened
        self.down_since = 0.0  # monotonic: when it first opened in this outage
        self.last_error = ""
        self.failures = 0  # failed or refused commands, ever (see failures())

    def failure(self, cb: pybreaker.CircuitBreaker, exc: BaseException) -> None:
        self.last_error = f"{exc.__class__.__name__}: {exc}"[:200]

    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        now = time.monotonic()
        old = old_state.name if old_state is not None else None
        if new_state.name == pybreaker.STATE_OPEN:
            self.opened_at = now
            if old == pybreaker.STATE_HALF_OPEN:  # the trial failed: wait twice as long
                cb.reset_timeout = min(cb.reset_timeout * 2, settings.REDIS_BREAKER_MAX)
                return
            cb.reset_timeout = settings.REDIS_BREAKER_MIN
            self.down_since = now
            metrics.CACHE_CIRCUIT_OPEN.set(1)
            metrics.CACHE_CIRCUIT_OPENINGS.inc()
            logger.warning("Redis did not answer (%s): not asked again for %.1f s (then for "
                           "growing intervals up to %.0f s until it answers); serving from the "
                           "database", self.last_error, cb.reset_timeout, settings.REDIS_BREAKER_MAX)
        elif new_state.name == pybreaker.STATE_CLOSED and old == pybreaker.STATE_HALF_OPEN:
            metrics.CACHE_CIRCUIT_OPEN.set(0)
            logger.warning("Redis answers again after %.1f s: cache in use", now - self.down_since)

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        try:
            return self.breaker.call(func, *args, **kwargs)
        except pybreaker.CircuitBreakerError:
            self.failures += 1
            raise RedisUnavailable(
                f"Redis not asked: it did not answer ({self.last_error}); next try in "
                f"{max(0.0, self.opened_at + self.breaker.reset_timeout - time.monotonic()):.1f} s"
            ) from None
        except FAILURES:
            self.failures += 1
            raise


_breaker = _Breaker()


def guarded(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``func`` (which talks to Redis) through this process's breaker."""
    return _breaker.call(func, *args, **kwargs)


def state() -> dict[str, Any]:
    """``{"state": "closed"}``, or while Redis is not asked ``{"state": "open",
    "retry_in_seconds": s, "error": "..."}`` (``half-open``: one trial command is let through)."""
    current = _breaker.breaker.current_state
    if current == pybreaker.STATE_CLOSED:
        return {"state": "closed"}
    remaining = _breaker.opened_at + _breaker.breaker.reset_timeout - time.monotonic()
    if current == pybreaker.STATE_OPEN and remaining <= 0:
        current = pybreaker.STATE_HALF_OPEN  # the next command is the trial
    return {"state": current, "retry_in_seconds": round(max(remaining, 0.0), 1),
            "error": _breaker.last_error}


def closed() -> bool:
    """Whether this process asks Redis as usual (cheap: for hot paths)."""
    return _breaker.breaker.current_state == pybreaker.STATE_CLOSED


def failures() -> int:
    """How many Redis commands have failed or been refused by the breaker in this process: a
    caller that compares it before and after its commands knows whether they all reached
    Redis (django-redis's ``IGNORE_EXCEPTIONS`` hides the errors themselves)."""
    return _breaker.failures


def reset() -> None:
    """Close the breaker (tests; a changed ``CACHES``)."""
    if _breaker.breaker.current_state != pybreaker.STATE_CLOSED:
        _breaker.breaker.close()
        metrics.CACHE_CIRCUIT_OPEN.set(0)
    _breaker.breaker.reset_timeout = settings.REDIS_BREAKER_MIN


class BreakerPipeline(Pipeline):
    """A pipeline whose ``execute`` goes through the breaker (queued commands do not)."""

    def execute(self, raise_on_error: bool = True) -> list[Any]:
        return guarded(super().execute, raise_on_error)


class BreakerRedis(redis.Redis):
    """redis-py's client with every command and pipeline behind the process's breaker; name
    it as django-redis's ``REDIS_CLIENT_CLASS``."""

    def execute_command(self, *args: Any, **options: Any) -> Any:
        return guarded(super().execute_command, *args, **options)

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> BreakerPipeline:
        return BreakerPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)
