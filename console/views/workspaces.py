"""The console's workspaces: list (searched and paged on the server), create, rename,
describe, delete."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest
from accounts.utils import get_cached_admin_user_for_account, get_cached_profile
from workspaces.forms import WorkspaceForm
from workspaces.models import Workspace

from ..paging import SearchText, paged_list

# A workspace's name: what the search reads. The page's order, by name, is the index of the
# unique constraint on (account, name); the search filters the account's workspaces in it.
SEARCH_TEXT = SearchText(F("name"))


def _workspaces(request: TenantRequest):  # type: ignore[no-untyped-def]
    return Workspace.objects.filter(account=request.account)


@account_admin_required
def workspace_list(request: TenantRequest) -> HttpResponse:
    """A page of the workspaces by name (two queries whatever their number: the capped count
    and the page), searched by name, and creating one."""
    form = WorkspaceForm(request.POST or None, account_id=request.account.pk)
    if request.method == "POST" and form.is_valid():
        workspace = form.save(commit=False)
        workspace.user_profile = request.user_profile or _platform_owner(request)
        if _saved(form, workspace):
            messages.success(request, f"Workspace {workspace.name} created.")
            return redirect("workspaces")
    return render(request, "console/workspaces.html", {
        **paged_list(request, _workspaces(request).order_by("name"), SEARCH_TEXT), "form": form,
        "account_number": request.account.account_number,
    })


def _saved(form: WorkspaceForm, workspace: Workspace) -> bool:
    """Save; a name taken concurrently (the database's unique constraint) is a form error."""
    try:
        with transaction.atomic():
            workspace.save()
    except IntegrityError:
        form.add_error("name", "This account already has a workspace of that name.")
        return False
    return True


def _platform_owner(request: TenantRequest):  # type: ignore[no-untyped-def]
    """A superuser without a profile here creates on behalf of the account's admin."""
    admin = get_cached_admin_user_for_account(request.account)
    return get_cached_profile(admin.pk, request.account.pk)


@account_admin_required
def workspace_edit(request: TenantRequest, pk: int) -> HttpResponse:
    workspace = get_object_or_404(_workspaces(request), pk=pk)
    current_name = workspace.name  # the form writes the submitted name onto the instance
    form = WorkspaceForm(request.POST or None, instance=workspace, account_id=request.account.pk)
    if request.method == "POST" and form.is_valid() and _saved(form, workspace):
        messages.success(request, f"Workspace saved as {workspace.name}.")
        return redirect("workspaces")
    return render(request, "console/workspace_edit.html", {"form": form, "workspace": workspace,
                                                    "current_name": current_name})


@require_POST
@account_admin_required
def workspace_delete(request: TenantRequest, pk: int) -> HttpResponse:
    workspace = get_object_or_404(_workspaces(request), pk=pk)
    workspace.delete()
    messages.success(request, f"Workspace {workspace.name} deleted.")
    return redirect("workspaces")
