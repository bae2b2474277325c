"""The console's members: list (searched and paginated on the server), invite, change role,
deactivate, remove (confirmed on its own page, with hand-over)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.db.models import F, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.actions import members as members_actions
from accounts.actions.members import MemberChangeRefused
from accounts.models import ApiKey, UserProfile
from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest

from ..forms import InviteForm, RoleForm
from ..paging import COUNT_CAP, PAGE_SIZE, SEARCH_COUNT_CAP, SearchText, paged_list
from .invitations import send_invitation


def _members(request: TenantRequest) -> QuerySet[UserProfile]:
    return UserProfile.objects.filter(account=request.account).select_related("user")


@dataclass(slots=True)
class MemberRow:
    """One row of the members table: the columns it shows, fetched as values (no model
    instances: the page's time at 100,000 members went to building and rendering them)."""

    pk: int
    user_id: int
    username: str
    email: str
    first_name: str
    last_name: str
    role: str
    is_active: bool
    last_sign_in_at: datetime | None
    has_2fa: bool = False


ROW_FIELDS = ("pk", "user_id", "user__username", "user__email", "user__first_name",
              "user__last_name", "role", "is_active", "last_sign_in_at")


def mark_two_factor(members: Iterable[UserProfile | MemberRow]) -> None:
    """Set ``has_2fa`` (a TOTP authenticator) on each of a page of members: one query by their
    user ids (an ``Exists`` column made PostgreSQL hash every authenticator of the platform)."""
    members = list(members)
    on = set(Authenticator.objects.filter(
        user_id__in=[m.user_id for m in members], type=Authenticator.Type.TOTP,
    ).values_list("user_id", flat=True)) if members else set()
    for member in members:
        member.has_2fa = member.user_id in on  # type: ignore[union-attr]


# A member's username, email, first and last name: the expression of the trigram index of
# accounts migration 0015.
SEARCH_TEXT = SearchText(F("user__username"), F("user__email"), F("user__first_name"),
                         F("user__last_name"))


@account_admin_required
def members(request: TenantRequest) -> HttpResponse:
    """The members, a page of 50 at a time, searched on the server (three queries whatever the
    account's size: the capped count, the page, its members' authenticators), and adding one:
    an invitation for every address (known or not), so nobody becomes a member without consent
    and the answer never tells who has a user."""
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sent = send_invitation(request, form, "members")
        if sent is not None:
            return sent
    listing = paged_list(request, _members(request).order_by("user__username").values_list(*ROW_FIELDS),
                         SEARCH_TEXT, per_page=PAGE_SIZE, cap=COUNT_CAP, search_cap=SEARCH_COUNT_CAP)
    page = listing["page"]
    page.object_list = [MemberRow(*values) for values in page.object_list]
    mark_two_factor(page.object_list)
    return render(request, "console/members.html", {
        **listing, "form": form, "roles": UserProfile.ROLE_CHOICES,
    })


def _member(request: TenantRequest, pk: int) -> UserProfile:
    return get_object_or_404(_members(request), pk=pk)


@account_admin_required
def member_detail(request: TenantRequest, pk: int) -> HttpResponse:
    """One member: who they are, and their role, deactivation and removal."""
    member = get_object_or_404(_members(request), pk=pk)
    mark_two_factor([member])
    return render(request, "console/member.html", {
        "member": member, "roles": UserProfile.ROLE_CHOICES,
        "keys": ApiKey.objects.filter(user_profile=member, is_active=True).count(),
    })


@require_POST
@account_admin_required
def member_role(request: TenantRequest, pk: int) -> HttpResponse:
    profile = _member(request, pk)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            profile = members_actions.do_change_member_role(profile, form.cleaned_data["role"],
                                                            acting_user=request.user)
        except MemberChangeRefused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, f"{profile.user.username} is now {profile.get_role_display()}.")
    return redirect("member", profile.pk)


@require_POST
@account_admin_required
def member_active(request: TenantRequest, pk: int) -> HttpResponse:
    profile = _member(request, pk)
    change = (members_actions.do_reactivate_member if request.POST.get("active") == "1"
              else members_actions.do_deactivate_member)
    try:
        profile = change(profile, acting_user=request.user)
    except MemberChangeRefused as exc:
        messages.error(request, exc.message)
    else:
        state = "reactivated" if profile.is_active else "deactivated"
        messages.success(request, f"{profile.user.username} {state}.")
    return redirect("member", profile.pk)


@account_admin_required
def member_remove(request: TenantRequest, pk: int) -> HttpResponse:
    """GET: what removing the member does, and a button to confirm; POST: remove them
    (``accounts.actions.members.do_remove_member``: their resources go to another admin)."""
    profile = _member(request, pk)
    if request.method != "POST":
        try:  # a removal the rules refuse is not offered
            members_actions.check_removal(profile, acting_user=request.user)
        except MemberChangeRefused as exc:
            messages.error(request, exc.message)
            return redirect("members")
        return render(request, "console/member_remove.html", {
            "member": profile, "heir": members_actions.heir_for(profile, request.user),
            "keys": ApiKey.objects.filter(user_profile=profile, is_active=True).count(),
        })
    try:
        removal = members_actions.do_remove_member(profile, acting_user=request.user)
    except MemberChangeRefused as exc:
        messages.error(request, exc.message)
        return redirect("members")
    note = (f" {removal.moved} of their resources now belong to {removal.heir.user.username}."
            if removal.moved and removal.heir is not None else "")
    messages.success(request, f"{removal.username} removed from the account.{note}")
    return redirect("members")
