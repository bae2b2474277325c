"""The task queue as operators see it: counts by state and the age of the oldest queued task
(django-tasks-db's table), and a Prometheus collector that reads them at scrape time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, Min
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from .heartbeat import live_workers


@dataclass(frozen=True)
class QueueStats:
    queued: int
    running: int
    failed: int
    oldest_queued_age: float | None  # seconds; None when nothing is queued


def queue_stats() -> QueueStats:
    """One aggregate query over the task table (indexed by status)."""
    by_status = dict(
        DBTaskResult.objects.exclude(status=TaskResultStatus.SUCCESSFUL)
        .values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    oldest = DBTaskResult.objects.ready().aggregate(oldest=Min("enqueued_at"))["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest is not None else None
    return QueueStats(
        queued=by_status.get(TaskResultStatus.READY, 0),
        running=by_status.get(TaskResultStatus.RUNNING, 0),
        failed=by_status.get(TaskResultStatus.FAILED, 0),
        oldest_queued_age=max(age, 0.0) if age is not None else None,
    )


def uses_worker() -> bool:
    """Whether tasks wait in the database for ``db_worker`` (else they run in-process)."""
    return settings.TASKS_BACKEND == "database"


class TaskQueueCollector(Collector):
    """Queue depth, running and failed tasks, the oldest queued task's age and live workers,
    read from the database when ``/metrics`` is scraped (one process answers, no double
    counting across workers)."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        stats = queue_stats()
        tasks = GaugeMetricFamily("smarter_tasks", "Tasks in the queue by state", labels=["state"])
        tasks.add_metric(["queued"], stats.queued)
        tasks.add_metric(["running"], stats.running)
        tasks.add_metric(["failed"], stats.failed)
        yield tasks
        yield GaugeMetricFamily(
            "smarter_tasks_oldest_queued_age_seconds",
            "Age of the oldest task waiting to run (0 when none waits)",
            value=stats.oldest_queued_age or 0.0,
        )
        if uses_worker():
            yield GaugeMetricFamily(
                "smarter_task_workers_live", "db_worker processes with a fresh heartbeat",
                value=live_workers(),
            )
