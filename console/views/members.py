"""The console's members: list, invite, change role, deactivate, remove (with hand-over)."""

from __future__ import annotations

from django.apps import apps
from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import ApiKey, UserProfile
from accounts.models.ownership import MetaDataWithOwnershipModel
from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest

from ..forms import InviteForm, RoleForm
from .invitations import send_invitation


def _members(request: TenantRequest):  # type: ignore[no-untyped-def]
    return UserProfile.objects.filter(account=request.account).select_related("user")


@account_admin_required
def members(request: TenantRequest) -> HttpResponse:
    """The members, and adding one: an invitation for every address (known or not), so
    nobody becomes a member without consent and the answer never tells who has a user."""
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sent = send_invitation(request, form, "members")
        if sent is not None:
            return sent
    return render(request, "console/members.html", {
        "members": _members(request).order_by("user__username"), "form": form,
        "roles": UserProfile.ROLE_CHOICES,
    })


def _member(request: TenantRequest, pk: int) -> UserProfile:
    return get_object_or_404(_members(request), pk=pk)


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
    return redirect("members")


@require_POST
@account_admin_required
def member_active(request: TenantRequest, pk: int) -> HttpResponse:
    profile = _member(request, pk)
    if not _refuse_self(request, profile):
        profile.is_active = request.POST.get("active") == "1"
        profile.save(update_fields=["is_active", "updated_at"])
        state = "reactivated" if profile.is_active else "deactivated"
        messages.success(request, f"{profile.user.username} {state}.")
    return redirect("members")


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


@require_POST
@account_admin_required
def member_remove(request: TenantRequest, pk: int) -> HttpResponse:
    profile = _member(request, pk)
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
