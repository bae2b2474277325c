"""Requesting an export (console and API): one pending export per account at a time."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Account, AccountContact, UserProfile
from audit.recorder import record
from tenancy.hosts import tenant_url
from tenancy.stale_tasks import reap_stale_tasks

from .models import DataExport
from .tasks import export_account


class ExportRefused(Exception):
    """The export cannot be requested now (the message says why)."""


def request_export(request: Any, profile: UserProfile | None) -> DataExport:
    """Record and enqueue an export of the request's account for ``profile``."""
    account: Account = request.account
    if profile is None or not profile.user.email:
        raise ExportRefused("Your user has no email address; the download link is sent by email.")
    pending = DataExport.objects.filter(account=account, status=DataExport.PENDING)
    if pending.exists():
        reap_stale_tasks()  # its worker may have died: fails its export, or retries its task
    with transaction.atomic():
        AccountContact.lock_account(account.pk)  # one request at a time per account
        if pending.exists():
            raise ExportRefused("An export of this account is already being prepared.")
        export = DataExport.objects.create(account=account, requested_by=profile)
        record("export.requested", account_id=account.pk, target_kind="lifecycle.dataexport",
               target_id=export.pk, target_repr=str(export))
        export_account.enqueue(account.pk, export.pk, tenant_url(request, account.account_number))
    export.refresh_from_db()
    return export
