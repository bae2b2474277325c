"""The console's members: list (searched and paginated on the server), invite, change role,
deactivate, remove (confirmed on its own page, with hand-over)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F, Func, QuerySet, TextField
from django.db.models.lookups import IRegex
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.functional import cached_property
from django.views.decorators.http import require_POST

from accounts.actions import members as members_actions
from accounts.actions.members import MemberChangeRefused
from accounts.models import ApiKey, UserProfile
from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest

from ..forms import InviteForm, RoleForm
from .invitations import send_invitation

PAGE_SIZE = 50
SEARCH_TERMS = 5  # words of a search, at most (each must match a name, the email or username)
SEARCH_LENGTH = 100


def _members(request: TenantRequest) -> QuerySet[UserProfile]:
    return UserProfile.objects.filter(account=request.account).select_related("user")


COUNT_CAP = 1000  # the list counts its members up to this; past it, "more than"
SEARCH_COUNT_CAP = 200  # a search counts its matches up to this


class CappedPaginator(Paginator):
    """Counts at most ``cap`` + 1 rows (``count`` says ``capped``): counting 100,000
    members, or the 12,000 who match a common name, costs a scan of them all, and nobody
    pages past 20 pages of 50 (they search). A search's cap is lower than the list's: each
    match counted is a trigram recheck and a membership lookup (~10 us), where the list's
    are index entries; a search matching more asks for another word."""

    capped = False

    def __init__(self, object_list: QuerySet, per_page: int, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        rows: QuerySet[UserProfile] = self.object_list  # type: ignore[assignment]
        found = rows.order_by().values("pk")[:self.cap + 1].count()
        self.capped = found > self.cap
        return min(found, self.cap)


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


class SearchText(Func):
    """A member's username, email, first and last name, space-separated: the expression of
    the trigram index of accounts migration 0015, which serves every word of a search in one
    index scan. A word (no spaces) cannot match across two of the fields."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()


SEARCH_TEXT = SearchText(F("user__username"), F("user__email"), F("user__first_name"),
                         F("user__last_name"))


def search_members(members: QuerySet[UserProfile], query: str) -> QuerySet[UserProfile]:
    """``members`` whose user matches every word of ``query`` in their username, email, first
    or last name (case-insensitive), by username.

    A case-insensitive regular expression of the escaped word rather than ``icontains``: on
    PostgreSQL ``~*`` is served by the trigram index (``SearchText``), where ``UPPER(x) LIKE``
    is not."""
    for term in query[:SEARCH_LENGTH].split()[:SEARCH_TERMS]:
        members = members.filter(IRegex(SEARCH_TEXT, re.escape(term)))
    return members.order_by("user__username")


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
    query = request.GET.get("q", "").strip()[:SEARCH_LENGTH]
    paginator = CappedPaginator(
        search_members(_members(request), query).values_list(*ROW_FIELDS), PAGE_SIZE,
        cap=SEARCH_COUNT_CAP if query else COUNT_CAP)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = [MemberRow(*values) for values in page.object_list]
    mark_two_factor(page.object_list)
    return render(request, "console/members.html", {
        "page": page, "capped": paginator.capped, "q": query,
        "query": urlencode({"q": query}) if query else "",
        "form": form, "roles": UserProfile.ROLE_CHOICES,
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
