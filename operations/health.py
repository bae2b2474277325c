"""``/healthz``: each dependency's state, and the overall verdict.

ok: everything answers. degraded (still 200: the site serves): the cache is down, the task
worker is missing or waiting for its database, or the oldest queued task is older than
``TASKS_QUEUE_MAX_AGE``.
down (503): the database does not answer.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection

from tenancy import redis_breaker
from tenancy.cache import tenant_cache

from .heartbeat import worker_states
from .queue import queue_stats, uses_worker

logger = logging.getLogger(__name__)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        logger.warning("healthz: database down (%s)", exc.__class__.__name__)
        return "unavailable"
    return "ok"


def _cache() -> str:
    if settings.REDIS_URL and redis_breaker.state()["state"] == "open":
        return "unavailable"  # not asked: it did not answer a moment ago (see "cache_circuit")
    try:
        probe = uuid.uuid4().hex
        cache.set("healthz:probe", probe, 10)
        if cache.get("healthz:probe") != probe:
            return "unavailable"
    except Exception as exc:  # noqa: BLE001
        logger.warning("healthz: cache down (%s)", exc.__class__.__name__)
        return "unavailable"
    return "ok"


def _push() -> str:
    """ok while invalidations are pushed; off without Redis or when switched off;
    unavailable while the subscription is not confirmed (reads then check Redis)."""
    if not settings.REDIS_URL or not settings.TENANCY_PUSH_INVALIDATION:
        return "off"
    return "ok" if tenant_cache.push.active() else "unavailable"


def report() -> tuple[dict[str, Any], int]:
    """The health document and its HTTP status."""
    status: dict[str, Any] = {"database": _database(), "cache": _cache(), "push": _push()}
    if settings.REDIS_URL:
        # "open": this process does not ask Redis for a while (it did not answer)
        status["cache_circuit"] = redis_breaker.state()
    # push down is reported, not a problem: every read then checks Redis (slower, still exact)
    problems = ["cache"] if status["cache"] == "unavailable" else []
    if status["database"] == "ok" and uses_worker():
        try:
            states, stats = worker_states(), queue_stats()
        except DatabaseError as exc:
            logger.warning("healthz: task tables unreadable (%s)", exc.__class__.__name__)
            status["worker"] = "unknown"
            problems.append("worker")
        else:
            workers = sum(states.values())
            # degraded: a live worker waiting for its database (its heartbeat says so)
            status["worker"] = "missing" if not workers else "degraded" if states.get("degraded") \
                else "ok"
            status["workers"] = workers
            status["queue"] = {"queued": stats.queued, "running": stats.running,
                               "failed": stats.failed,
                               "oldest_age_seconds": round(stats.oldest_queued_age or 0.0, 1)}
            if status["worker"] != "ok":
                problems.append("worker")
            if (stats.oldest_queued_age or 0) > settings.TASKS_QUEUE_MAX_AGE:
                problems.append("queue")
    else:
        status["worker"] = "in-process" if not uses_worker() else "unknown"
    if status["database"] != "ok":
        status["status"] = "down"
        return status, 503
    status["status"] = "degraded" if problems else "ok"
    return status, 200
