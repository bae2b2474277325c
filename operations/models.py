"""The task worker's heartbeat: a platform table (no account), one row per running worker."""

from __future__ import annotations

from django.db import models


class WorkerHeartbeat(models.Model):
    """A ``db_worker`` process, and when it last said it was alive."""

    worker_id = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.IntegerField()
    started_at = models.DateTimeField()
    seen_at = models.DateTimeField(db_index=True)
    # "ok", or "degraded" while the worker waits for its database (``reason`` says why)
    state = models.CharField(max_length=16, default="ok")
    reason = models.CharField(max_length=200, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"
