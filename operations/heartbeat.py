"""The task worker's heartbeat: a thread beside ``db_worker`` that stamps its row every
``WORKER_HEARTBEAT_INTERVAL`` seconds, so ``/healthz`` can tell a stopped worker (no fresh
row) from an idle one."""

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
from django.utils import timezone

from .models import WorkerHeartbeat

logger = logging.getLogger(__name__)


def beat(worker_id: str, started_at: datetime) -> None:
    """Stamp this worker's row now (created on the first beat)."""
    WorkerHeartbeat.objects.update_or_create(
        worker_id=worker_id,
        defaults={"hostname": socket.gethostname()[:255], "pid": os.getpid(),
                  "started_at": started_at, "seen_at": timezone.now()},
    )


@contextmanager
def heartbeat(worker_id: str) -> Iterator[None]:
    """Beat in a thread while the block runs; the row is removed when it ends.

    On an in-memory SQLite database (the embedded test database) it beats once, in this
    thread: that database is private to the process, so no other process reads the beat, and
    a second connection's write would meet the worker's exclusive transaction as a
    shared-cache table lock, which SQLite reports at once instead of waiting for it."""
    stop = threading.Event()
    started_at = timezone.now()

    def run() -> None:
        while True:
            try:
                beat(worker_id, started_at)
            except DatabaseError as exc:
                logger.warning("worker heartbeat not written (%s)", exc.__class__.__name__)
            finally:
                connection.close()  # this thread's own connection; opened again next beat
            if stop.wait(settings.WORKER_HEARTBEAT_INTERVAL):
                return

    thread = None
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
        beat(worker_id, started_at)
    else:
        thread = threading.Thread(target=run, name="worker-heartbeat", daemon=True)
        thread.start()
    try:
        yield
    finally:
        stop.set()
        if thread is not None:
            thread.join(timeout=5)
        try:
            WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()
        except DatabaseError:
            logger.warning("worker heartbeat row of %s left behind", worker_id)


def live_workers() -> int:
    """Workers whose heartbeat is at most ``WORKER_HEARTBEAT_MAX_AGE`` seconds old."""
    since = timezone.now() - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)
    return WorkerHeartbeat.objects.filter(seen_at__gte=since).count()
