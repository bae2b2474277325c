"""The console's members: list (searched and paginated on the server), invite, change role,
deactivate, remove (confirmed on its own page, with hand-over)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from allauth.mfa.models import Authenticator
from django.apps import apps
from django.contrib import messages
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import ApiKey, UserProfile
from accounts.models.ownership import MetaDataWithOwnershipModel
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


def _refuse_self(request: TenantRequest, profile: UserProfile) -> bool:
    if profile.user_id == request.user.pk:
        messages.error(request, "You cannot change your own membership here.")
        return True
    return False


@require_POST
@account_admin_required
def member_role(request: TenantRequest, pk: int) -> HttpResponse:
    profile = _member(request, pk)
    form = RoleForm(request.POST)
    if not _refuse_self(request, profile) and form.is_valid():
        profile.role = form.cleaned_data["role"]
        profile.save(update_fields=["role", "updated_at"])
        messages.success(request, f"{profile.user.username} is now {profile.get_role_display()}.")
    return redirect("member", profile.pk)


@require_POST
@account_admin_required
def member_active(request: TenantRequest, pk: int) -> HttpResponse:
    profile = _member(request, pk)
    if not _refuse_self(request, profile):
        profile.is_active = request.POST.get("active") == "1"
        profile.save(update_fields=["is_active", "updated_at"])
        state = "reactivated" if profile.is_active else "deactivated"
        messages.success(request, f"{profile.user.username} {state}.")
    return redirect("member", profile.pk)


def _heir(request: TenantRequest, leaving: UserProfile) -> UserProfile | None:
    """Who takes over a removed member's resources: the acting admin, else another admin."""
    actor = getattr(request, "user_profile", None)
    if actor is not None and actor.account_id == request.account.pk and actor.pk != leaving.pk:
        return UserProfile.objects.get(pk=actor.pk)
    return (
        _members(request).filter(role=UserProfile.ROLE_ADMIN, is_active=True, user__is_active=True)
        .exclude(pk=leaving.pk).order_by("id").first()
    )


def _hand_over(profile: UserProfile, heir: UserProfile) -> int:
    """Give the account's resources owned by ``profile`` to ``heir``; API keys are not handed
    over (they carry their owner's permissions and die with the membership)."""
    moved = 0
    for model in apps.get_models():
        if not issubclass(model, MetaDataWithOwnershipModel) or model is ApiKey:
            continue
        for row in model.objects.filter(user_profile=profile):
            row.user_profile = heir
            row.save()  # signals invalidate cached copies
            moved += 1
    return moved


@account_admin_required
def member_remove(request: TenantRequest, pk: int) -> HttpResponse:
    """GET: what removing the member does, and a button to confirm; POST: remove them."""
    profile = _member(request, pk)
    if request.method != "POST":
        if _refuse_self(request, profile):
            return redirect("members")
        heir = _heir(request, profile)
        return render(request, "console/member_remove.html", {
            "member": profile, "heir": heir,
            "keys": ApiKey.objects.filter(user_profile=profile, is_active=True).count(),
        })
    if not _refuse_self(request, profile):
        username = profile.user.username
        with transaction.atomic():
            heir = _heir(request, profile)
            if heir is None:
                messages.error(request, f"{username} owns this account's resources and no "
                                        "other admin can take them over.")
                return redirect("members")
            moved = _hand_over(profile, heir)
            profile.delete()
        note = f" {moved} of their resources now belong to {heir.user.username}." if moved else ""
        messages.success(request, f"{username} removed from the account.{note}")
    return redirect("members")
