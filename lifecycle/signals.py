"""An export whose task failed (an error outside the export's own handling, or a worker that
died: :mod:`tenancy.stale_tasks`) is marked failed, so that a new one can be requested."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver
from django.utils import timezone
from django_tasks.base import TaskResultStatus
from django_tasks.signals import task_finished

from tenancy.context import tenant_context

from .models import DataExport
from .tasks import export_account


@receiver(task_finished)
def fail_export_of_failed_task(sender: Any, task_result: Any, **kwargs: Any) -> None:
    """Mark the export of a FAILED ``export_account`` task failed (if still pending)."""
    if task_result.status != TaskResultStatus.FAILED:
        return
    if task_result.task.module_path != export_account.module_path:
        return
    account_id, export_id = task_result.args[:2]
    with tenant_context(account_id):
        DataExport.objects.filter(pk=export_id, account_id=account_id, status=DataExport.PENDING).update(
            status=DataExport.FAILED, error="The export did not finish; please request it again.",
            finished_at=timezone.now())
