"""Enqueue the periodic lifecycle work; an operator schedules this (e.g. hourly).

* a purge task for every closed account whose retention period is over;
* the audit log's retention purge;
* the deletion of expired export files;
* with the database task backend, the pruning of finished task results older than a day
  (their arguments hold mail bodies and account ids: they are not kept).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command

from accounts.models import Account
from audit.tasks import purge_audit_events
from lifecycle.closure import purge_due
from lifecycle.tasks import delete_expired_exports, purge_closed_account
from tenancy.commands import PlatformCommand


class Command(PlatformCommand):
    help = "Enqueue purges of closed accounts past retention, the audit retention purge and export cleanup."

    def handle(self, *args: Any, **options: Any) -> None:
        closed = Account.objects.filter(closed_at__isnull=False, is_active=False).order_by("closed_at")
        retention = settings.ACCOUNT_CLOSURE_RETENTION_DAYS
        due = [a for a in closed if purge_due(a, retention_days=retention)]
        for account in due:
            # The worker decides with this retention, not its own (they may be configured apart).
            purge_closed_account.enqueue(account.pk, retention)
            self.stdout.write(f"purge of closed account {account.account_number} enqueued")
        purge_audit_events.enqueue()
        delete_expired_exports.enqueue()
        self.stdout.write(f"{len(due)} account purge(s), the audit purge and the export cleanup enqueued")
        if settings.TASKS_BACKEND == "database":
            call_command("prune_db_task_results", min_age_days=1, stdout=self.stdout, stderr=self.stderr)
