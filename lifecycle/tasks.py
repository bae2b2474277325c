"""Lifecycle tasks: the export, the clone, the purge of a closed account, expired exports'
cleanup."""

from __future__ import annotations

import logging
import tempfile
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.models import Account
from accounts.tasks import send_email
from audit.recorder import record
from tenancy.operation import current_operation
from tenancy.tasks import platform_task, tenant_task
from tenancy.wall import crossing

from .closure import purge_account, purge_due
from .export import write_export
from .importer import import_account
from .manifest import ImportRefused
from .models import DataExport

logger = logging.getLogger(__name__)


@tenant_task
def export_account(account_id: int, export_id: int, link_base: str) -> str:
    """Write the zip, then mail the requester a link (``link_base`` + the console's download
    path: no secret in it; the admin's session on the account's host opens it) valid
    ``EXPORT_LINK_HOURS``. Returns the export's status."""
    export = DataExport.objects.select_related("account", "requested_by__user").get(
        pk=export_id, account_id=account_id
    )
    if export.status != DataExport.PENDING:
        return export.status
    account = export.account
    try:
        with tempfile.TemporaryFile() as out:
            write_export(account, out)
            out.seek(0)
            name = default_storage.save(
                f"exports/{account.account_number}/{uuid.uuid4().hex}.zip", File(out)
            )
            size = default_storage.size(name)
    except Exception as exc:  # noqa: BLE001 - recorded on the export, shown to the admin
        logger.exception("export %s of account %s failed", export.pk, account.account_number)
        DataExport.objects.filter(pk=export.pk).update(status=DataExport.FAILED, error=str(exc)[:255],
                                                       finished_at=timezone.now())
        return DataExport.FAILED
    now = timezone.now()
    DataExport.objects.filter(pk=export.pk).update(
        status=DataExport.READY, file_name=name, size=size,
        finished_at=now, expires_at=now + timedelta(hours=settings.EXPORT_LINK_HOURS),
    )
    user = export.requested_by.user if export.requested_by else None
    if user is not None and user.email:
        context = {
            "account": account, "user": user, "hours": settings.EXPORT_LINK_HOURS,
            "link": f"{link_base.rstrip('/')}/console/exports/{export.pk}/download/",
        }
        send_email.enqueue(
            account_id, f"Your data export of {account.company_name} is ready",
            render_to_string("lifecycle/export_email.txt", context), [user.email],
            html_body=render_to_string("lifecycle/export_email.html", context),
        )
    return DataExport.READY


@tenant_task
def clone_account(account_id: int, user_id: int | None = None) -> str:
    """Copy the account (its export, imported as a new account with stand-in users: see
    :func:`lifecycle.importer.import_account`) for support or staging, for the superuser
    ``user_id``. Records ``account.cloned`` (or ``account.clone_failed``) in the account's
    audit log; returns the copy's number ("" on failure)."""
    op = current_operation()
    if op is not None:
        op.user_id = user_id  # the audit log names who asked
    account = Account.objects.get(pk=account_id)
    try:
        with tempfile.TemporaryFile() as out:
            write_export(account, out)
            out.seek(0)
            with crossing("a superuser's clone: a new account, its rows and a platform-level event"):
                report = import_account(out, stand_in_users=True)
    except ImportRefused as exc:
        logger.warning("clone of account %s refused: %s", account.account_number, exc)
        with transaction.atomic():
            record("account.clone_failed", account_id=account_id, target_kind="accounts.account",
                   target_id=account_id, target_repr=account.account_number,
                   changes={"error": str(exc)[:500]})
        return ""
    clone = report.account
    with transaction.atomic():
        record("account.cloned", account_id=account_id, target_kind="accounts.account",
               target_id=clone.pk, target_repr=clone.account_number,
               changes={"clone": clone.account_number, "rows": report.created,
                        "skipped": {k: dict(v) for k, v in report.skipped.items()}})
    logger.info("cloned account %s as %s", account.account_number, clone.account_number)
    return clone.account_number


@tenant_task
def purge_closed_account(account_id: int, retention_days: int | None = None) -> dict[str, int]:
    """Purge a closed account whose retention period is over; anything else is left alone
    (it may have been restored since the purge was scheduled), with a warning.

    ``retention_days`` is the scheduler's (``run_lifecycle``'s) retention, so a worker
    configured with another one purges what was scheduled instead of silently nothing."""
    account = Account.objects.filter(pk=account_id).first()
    if account is None or not purge_due(account, retention_days=retention_days):
        logger.warning("purge of account %s skipped: %s", account_id,
                       "no such account" if account is None else "not closed or not due any more")
        return {}
    return purge_account(account_id)


@platform_task
def delete_expired_exports() -> int:
    """Delete the files of exports whose link expired; the rows stay, marked expired."""
    done = 0
    expired = DataExport.objects.filter(status=DataExport.READY, expires_at__lte=timezone.now())
    for export in expired:
        if export.file_name:
            default_storage.delete(export.file_name)
        DataExport.objects.filter(pk=export.pk).update(status=DataExport.EXPIRED, file_name="")
        done += 1
    return done
