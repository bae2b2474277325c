"""The task worker's heartbeat: a thread beside ``db_worker`` that stamps its row every
``WORKER_HEARTBEAT_INTERVAL`` seconds, so ``/healthz`` can tell a stopped worker (no fresh
row) from an idle one, and a degraded one (waiting for its database) from a healthy one."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.models import QuerySet
from django.utils import timezone

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)


class WorkerStatus:
    """What a worker says about itself in each beat: ``ok``, or ``degraded`` with a reason.

    Changing it wakes the heartbeat thread, so the row says so at the next chance rather
    than after a whole interval."""

    def __init__(self) -> None:
        self.state, self.reason = "ok", ""
        self.changed = threading.Event()

    def set(self, state: str, reason: str = "") -> None:
        self.state, self.reason = state, reason[:200]
        self.changed.set()


def beat(worker_id: str, started_at: datetime, status: WorkerStatus | None = None) -> None:
    """Stamp this worker's row now (created on the first beat)."""
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(),
                  "started_at": started_at, "seen_at": timezone.now(),
                  "state": status.state if status else "ok",
                  "reason": status.reason if status else ""},
    )


@contextmanager
def heartbeat(worker_id: str, status: WorkerStatus | None = None) -> Iterator[None]:
    """Beat in a thread while the block runs; the row is removed when it ends.

    On an in-memory SQLite database (the embedded test database) it beats once, in this
    thread: that database is private to the process, so no other process reads the beat, and
    a second connection's write would meet the worker's exclusive transaction as a
    shared-cache table lock, which SQLite reports at once instead of waiting for it."""
    stop = threading.Event()
    started_at = timezone.now()
    status = status or WorkerStatus()

    def run() -> None:
        while True:
            status.changed.clear()
            try:
                beat(worker_id, started_at, status)
            except DatabaseError as exc:
                logger.warning("worker heartbeat not written (%s)", exc.__class__.__name__)
            finally:
                connection.close()  # this thread's own connection; opened again next beat
            status.changed.wait(settings.WORKER_HEARTBEAT_INTERVAL)
            if stop.is_set():
                return

    thread = None
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
        beat(worker_id, started_at, status)
    else:
        thread = threading.Thread(target=run, name="worker-heartbeat", daemon=True)
        thread.start()
    try:
        yield
    finally:
        stop.set()
        status.changed.set()
        if thread is not None:
            thread.join(timeout=5)
        try:
            WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()
        except DatabaseError:
            logger.warning("worker heartbeat row of %s left behind", worker_id)


def _live() -> QuerySet[WorkerHeartbeat]:
    since = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)
    return WorkerHeartbeat.objects.filter(seen_at__gte=since)


def live_workers() -> int:
    """Workers whose heartbeat is at most ``WORKER_HEARTBEAT_MAX_AGE`` seconds old."""
    return _live().count()


def live_worker_ids() -> set[str]:
    """The ids of the workers :func:`live_workers` counts (the reaper spares their tasks)."""
    return set(_live().values_list("worker_id", flat=True))


def worker_states() -> dict[str, int]:
    """How many live workers are in each state (``ok``, ``degraded``)."""
    states: dict[str, int] = {}
    for state in _live().values_list("state", flat=True):
        states[state] = states.get(state, 0) + 1
    return states
