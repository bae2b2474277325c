"""The console's data exports: request, list, download; clone (platform superusers)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest
from audit.models import AuditEvent
from audit.recorder import record
from lifecycle.models import DataExport
from lifecycle.requests import ExportRefused, request_export
from lifecycle.tasks import clone_account
from tenancy.hosts import tenant_url


def _clones(request: TenantRequest) -> list[dict[str, Any]]:
    """The account's recent clones (platform superusers only see them)."""
    if not request.user.is_superuser:
        return []
    events = AuditEvent.objects.filter(account=request.account,
                                       action__in=["account.cloned", "account.clone_failed"])
    found = []
    for e in events[:20]:
        done = e.action == "account.cloned"
        found.append({"at": e.created_at, "by": e.actor, "number": e.target_repr if done else "",
                      "error": e.changes.get("error", ""),
                      "url": tenant_url(request, e.target_repr) if done else ""})
    return found


@account_admin_required
def exports(request: TenantRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            request_export(request, request.user_profile)
        except ExportRefused as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, "Export requested: you will get an email with a download "
                                      "link as soon as it is ready.")
        return redirect("exports")
    rows = DataExport.objects.filter(account=request.account).select_related("requested_by__user")
    return render(request, "console/exports.html", {
        "exports": rows[:50], "hours": settings.EXPORT_LINK_HOURS, "clones": _clones(request),
    })


@require_POST
@account_admin_required
def account_clone(request: TenantRequest) -> HttpResponse:
    """A platform superuser copies the account (support, staging): a task exports and imports
    it as a new account whose members are inactive stand-ins."""
    if not request.user.is_superuser:
        raise PermissionDenied("Platform superusers only.")
    with transaction.atomic():
        record("account.clone_requested", account_id=request.account.pk, target_kind="accounts.account",
               target_id=request.account.pk, target_repr=request.account.account_number)
    clone_account.enqueue(request.account.pk, request.user.pk)
    messages.success(request, "Clone requested: the copy is listed below once it is ready.")
    return redirect("exports")


@require_GET
@account_admin_required
def export_download(request: TenantRequest, pk: int) -> HttpResponseBase:
    """The list's download button and the mailed link: a signed-in admin of this account on
    its own host (its session is the credential: the URL carries no secret, so access logs
    and routers that keep query strings keep nothing worth stealing), while the file is kept
    (``EXPORT_LINK_HOURS``)."""
    export = get_object_or_404(DataExport, pk=pk, account=request.account)
    if not export.is_downloadable:
        return render(request, "lifecycle/export_gone.html", status=410)
    with transaction.atomic():
        record("export.downloaded", account_id=request.account.pk, target_kind="lifecycle.dataexport",
               target_id=export.pk, target_repr=str(export))
    name = f"export-{request.account.account_number}-{export.pk}.zip"
    return FileResponse(default_storage.open(export.file_name, "rb"), as_attachment=True,
                        filename=name, content_type="application/zip")
