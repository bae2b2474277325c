"""The tenant home and workspace pages, and workspace management in the console."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest
from tenancy.hosts import tenant_url

from .forms import WorkspaceForm
from .models import Workspace


def home(request: TenantRequest) -> HttpResponse:
    """A workspace host shows its workspace; an account host lists the visible ones."""
    workspace = getattr(request, "workspace", None)
    if workspace is not None:
        return workspace_page(request, workspace)
    visible = Workspace.objects.filter(account=request.account)
    if request.user_profile is None and not request.user.is_superuser:
        visible = visible.filter(is_public=True)
    number = request.account.account_number
    return render(request, "workspaces/home.html", {
        "workspaces": [(w, tenant_url(request, number, w.name)) for w in visible.order_by("name")],
    })


def workspace_page(request: TenantRequest, workspace: Workspace) -> HttpResponse:
    """Public workspaces are open to anyone; private ones to the account's members."""
    if not workspace.is_public and request.user_profile is None and not request.user.is_superuser:
        return redirect_to_login(request.get_full_path())
    return render(request, "workspaces/workspace.html", {"workspace": workspace})


def _workspaces(request: TenantRequest):  # type: ignore[no-untyped-def]
    return Workspace.objects.filter(account=request.account)


@account_admin_required
def workspace_list(request: TenantRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST or None, account_id=request.account.pk)
    if request.method == "POST" and form.is_valid():
        workspace = form.save(commit=False)
        workspace.user_profile = request.user_profile or _platform_owner(request)
        if _saved(form, workspace):
            messages.success(request, f"Workspace {workspace.name} created.")
            return redirect("workspaces")
    return render(request, "workspaces/list.html", {
        "workspaces": _workspaces(request).order_by("name"), "form": form,
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
    from accounts.utils import get_cached_admin_user_for_account, get_cached_profile

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
    return render(request, "workspaces/edit.html", {"form": form, "workspace": workspace,
                                                    "current_name": current_name})


@require_POST
@account_admin_required
def workspace_delete(request: TenantRequest, pk: int) -> HttpResponse:
    workspace = get_object_or_404(_workspaces(request), pk=pk)
    workspace.delete()
    messages.success(request, f"Workspace {workspace.name} deleted.")
    return redirect("workspaces")
