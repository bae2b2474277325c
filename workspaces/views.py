"""The tenant home and workspace pages that end users see."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import UserProfile
from accounts.requests import TenantRequest
from tenancy.hosts import tenant_url

from .models import Workspace

# A workspace page lists at most this many of the account's members (the rest are counted).
MEMBERS_SHOWN = 24


def home(request: TenantRequest) -> HttpResponse:
    """A workspace host shows its workspace; an account host lists the visible ones as cards."""
    workspace = getattr(request, "workspace", None)
    if workspace is not None:
        return workspace_page(request, workspace)
    return render(request, "workspaces/home.html", {"workspaces": visible_workspaces(request),
                                                    "insider": _is_insider(request)})


def visible_workspaces(request: TenantRequest) -> list[tuple[Workspace, str]]:
    """The host's account's workspaces this visitor may see (public ones to strangers), each
    with its host's URL; also the bare domain's front page's list of the default account's."""
    visible = Workspace.objects.filter(account=request.account)
    if not _is_insider(request):
        visible = visible.filter(is_public=True)
    number = request.account.account_number
    return [(w, tenant_url(request, number, w.name)) for w in visible.order_by("name")]


def workspace_page(request: TenantRequest, workspace: Workspace) -> HttpResponse:
    """Public workspaces are open to anyone; private ones to the account's members.

    Who can see it is always said; the people are listed to insiders only (members and
    platform superusers), capped at ``MEMBERS_SHOWN``, in two queries whatever the account's
    size. An anonymous visit to a public workspace runs no query at all once the host is warm.
    The page's template is ``settings.WORKSPACE_PAGE_TEMPLATE``: a product app names its own
    template there, which extends ``workspaces/workspace.html`` and fills its
    ``workspace_content`` block with the product's content.
    """
    insider = _is_insider(request)
    if not workspace.is_public and not insider:
        return redirect_to_login(request.get_full_path())
    context: dict[str, Any] = {"workspace": workspace, "insider": insider}
    if insider:
        members = UserProfile.objects.filter(account=request.account, is_active=True)
        context["member_count"] = members.count()
        context["members"] = list(
            members.select_related("user").order_by("user__first_name", "user__last_name",
                                                    "user__username")[:MEMBERS_SHOWN])
        context["more_members"] = max(0, context["member_count"] - len(context["members"]))
    return render(request, settings.WORKSPACE_PAGE_TEMPLATE, context)


def _is_insider(request: TenantRequest) -> bool:
    """A member of this account, or a platform superuser."""
    return request.user_profile is not None or request.user.is_superuser
