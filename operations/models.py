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

    def __str__(self) -> str:
        return f"{self.worker_id} ({self.hostname}:{self.pid})"
