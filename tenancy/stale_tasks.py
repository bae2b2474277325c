"""Tasks whose worker died: retried, or failed, once their worker is known to be gone.

django-tasks' database worker marks a task RUNNING when it claims it and SUCCESSFUL or FAILED
when it ends. A worker killed in between (OOM, a dyno restart, ``kill -9``, a database
restart while it recorded the result) leaves the row RUNNING forever, and whatever waits on
it (an export: "already being prepared") waits forever too. Such a task is made READY again
while it has had fewer than ``TASKS_MAX_ATTEMPTS`` claims (another worker runs it again), and
otherwise FAILED with :class:`WorkerLost`, with ``task_finished`` sent as the worker would have
(receivers clean up, e.g. the export).

A task is taken for orphaned when

- the caller knows which workers are alive (``live_workers``: the worker ids with a fresh
  heartbeat) and the worker that claimed it last is not one of them, once the task is older
  than ``WORKER_HEARTBEAT_MAX_AGE`` (so a worker that just started is not mistaken for a dead
  one); or
- it has been RUNNING for longer than ``TASKS_RUNNING_TIMEOUT`` seconds (the fallback when no
  heartbeat is known; the timeout must exceed the longest task: a live task past it may run
  twice); or
- its own worker gives it up (:func:`release_tasks_of`): the worker lost its database in the
  middle of the task and could not record how it ended.

The worker (``manage.py db_worker``, this project's override) reaps at start-up and every
``TASKS_REAP_INTERVAL`` seconds; requesting an export reaps too. A retried task must be safe to
run again: side effects that must happen once check a marker first (``accounts.tasks``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks.signals import task_finished
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)


class WorkerLost(RuntimeError):
    """The worker running the task stopped before the task ended (recorded on the task)."""


def _last_worker(result: DBTaskResult) -> str | None:
    return result.worker_ids[-1] if result.worker_ids else None


def _retry_or_fail(candidates: list[DBTaskResult], why: str) -> tuple[int, list[DBTaskResult]]:
    """Make each of ``candidates`` (locked RUNNING rows) READY again or FAILED; returns how
    many were retried and the failed ones (for :func:`_finished`, after the commit)."""
    retried, failed = 0, list[DBTaskResult]()
    for result in candidates:
        attempts = len(result.worker_ids)
        if attempts < settings.TASKS_MAX_ATTEMPTS:
            result.status = TaskResultStatus.READY
            result.save(update_fields=["status"])
            retried += 1
            logger.warning("task %s (%s) outlived its worker (%s): retried (attempt %d of %d)",
                           result.id, result.task_path, why, attempts + 1, settings.TASKS_MAX_ATTEMPTS)
        else:
            result.set_failed(WorkerLost(f"{why} after attempt {attempts}"))
            failed.append(result)
            logger.error("task %s (%s) outlived its worker %d times (%s): failed",
                         result.id, result.task_path, attempts, why)
    return retried, failed


def _finished(retried: int, failed: list[DBTaskResult]) -> tuple[int, int]:
    """Send ``task_finished`` for the failed tasks, as their worker would have."""
    for result in failed:
        task_finished.send(sender=type(result.task.get_backend()), task_result=result.task_result)
    return retried, len(failed)


def reap_stale_tasks(
    now: datetime | None = None, live_workers: Collection[str] | None = None
) -> tuple[int, int]:
    """Retry or fail the RUNNING tasks whose worker is gone (see the module); returns
    (retried, failed). Without ``live_workers`` only the running timeout applies."""
    now = now or timezone.now()
    timeout = now - timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT)
    grace = now - timedelta(seconds=settings.WORKER_HEARTBEAT_MAX_AGE)
    latest = max(timeout, grace) if live_workers is not None else timeout
    retried, failed = 0, list[DBTaskResult]()
    with transaction.atomic():
        running = DBTaskResult.objects.running().filter(started_at__lt=latest)
        by_heartbeat, by_timeout = [], []
        for result in running.select_for_update(skip_locked=True):
            if live_workers is not None and _last_worker(result) not in live_workers \
                    and result.started_at < grace:
                by_heartbeat.append(result)
            elif result.started_at < timeout:
                by_timeout.append(result)
        for group, why in ((by_heartbeat, "its worker's heartbeat stopped"),
                           (by_timeout, f"no result {settings.TASKS_RUNNING_TIMEOUT} s later")):
            if group:
                more, lost = _retry_or_fail(group, why)
                retried, failed = retried + more, failed + lost
    return _finished(retried, failed)


def release_tasks_of(worker_id: str) -> tuple[int, int]:
    """Retry or fail the tasks ``worker_id`` itself was running when it lost its database
    (it cannot tell whether their results were recorded: they were not, as they are still
    RUNNING). Returns (retried, failed)."""
    with transaction.atomic():
        mine = [result for result in DBTaskResult.objects.running().select_for_update(skip_locked=True)
                if _last_worker(result) == worker_id]
        retried, failed = _retry_or_fail(mine, "its worker lost the database mid-task")
    return _finished(retried, failed)
