"""Tasks whose worker died: retried, or failed, once they have run longer than allowed.

django-tasks' database worker marks a task RUNNING when it claims it and SUCCESSFUL or FAILED
when it ends. A worker killed in between (OOM, a dyno restart, ``kill -9``) leaves the row
RUNNING forever, and whatever waits on it (an export: "already being prepared") waits
forever too. A task RUNNING for longer than ``TASKS_RUNNING_TIMEOUT`` seconds is therefore
taken for dead: it is made READY again while it has had fewer than ``TASKS_MAX_ATTEMPTS``
claims (another worker runs it again), and otherwise FAILED with :class:`WorkerLost`, with
``task_finished`` sent as the worker would have (receivers clean up, e.g. the export).
The timeout must exceed the longest task: a live task past it may run twice.

The worker (``manage.py db_worker``, this project's override) reaps at start-up and every
``TASKS_REAP_INTERVAL`` seconds; requesting an export reaps too.
"""

from __future__ import annotations

import logging
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


def reap_stale_tasks(now: datetime | None = None) -> tuple[int, int]:
    """Retry or fail the tasks RUNNING for longer than ``TASKS_RUNNING_TIMEOUT``; returns
    (retried, failed)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.TASKS_RUNNING_TIMEOUT)
    retried, failed = 0, []
    with transaction.atomic():
        stale = DBTaskResult.objects.running().filter(started_at__lt=cutoff)
        for result in stale.select_for_update(skip_locked=True):
            attempts = len(result.worker_ids)
            if attempts < settings.TASKS_MAX_ATTEMPTS:
                result.status = TaskResultStatus.READY
                result.save(update_fields=["status"])
                retried += 1
                logger.warning("task %s (%s) outlived its worker: retried (attempt %d of %d)",
                               result.id, result.task_path, attempts + 1, settings.TASKS_MAX_ATTEMPTS)
            else:
                result.set_failed(WorkerLost(
                    f"no result {settings.TASKS_RUNNING_TIMEOUT} s after attempt {attempts}: "
                    "its worker stopped"))
                failed.append(result)
                logger.error("task %s (%s) outlived its worker %d times: failed",
                             result.id, result.task_path, attempts)
    for result in failed:
        task_finished.send(sender=type(result.task.get_backend()), task_result=result.task_result)
    return retried, len(failed)
