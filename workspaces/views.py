"""The tenant home and workspace pages that end users see."""

from __future__ import annotations

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import render

from accounts.requests import TenantRequest
from tenancy.hosts import tenant_url

from .models import Workspace


def home(request: TenantRequest) -> HttpResponse:
    """A workspace host shows its workspace; an account host lists the visible ones."""
    workspace = getattr(request, "workspace", None)
    if workspace is not None:
        return workspace_page(request, workspace)
    return render(request, "workspaces/home.html", {"workspaces": visible_workspaces(request)})


def visible_workspaces(request: TenantRequest) -> list[tuple[Workspace, str]]:
    """The host's account's workspaces this visitor may see (public ones to strangers), each
    with its host's URL; also the bare domain's front page's list of the default account's."""
    visible = Workspace.objects.filter(account=request.account)
    if request.user_profile is None and not request.user.is_superuser:
        visible = visible.filter(is_public=True)
    number = request.account.account_number
    return [(w, tenant_url(request, number, w.name)) for w in visible.order_by("name")]


def workspace_page(request: TenantRequest, workspace: Workspace) -> HttpResponse:
    """Public workspaces are open to anyone; private ones to the account's members."""
    if not workspace.is_public and request.user_profile is None and not request.user.is_superuser:
        return redirect_to_login(request.get_full_path())
    return render(request, "workspaces/workspace.html", {"workspace": workspace})
