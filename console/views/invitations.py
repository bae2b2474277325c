"""The console's invitations: list, invite, resend, revoke (accepting is the front door's)."""

from __future__ import annotations

from allauth.core.ratelimit import respond_429
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts import invitations as service
from accounts.actions import invites
from accounts.models import Invitation
from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest

from ..forms import InviteForm


def send_invitation(request: TenantRequest, form: InviteForm, then: str) -> HttpResponse | None:
    """Invite the valid ``form``'s address and redirect to the page named ``then`` with one
    message, the same for every address; 429 past the send limit; None when refused (the
    form carries the reason)."""
    try:
        invitation = invites.do_invite_member(request, request.account, form.cleaned_data["email"],
                                              form.cleaned_data["role"], acting_user=request.user)
    except service.SendLimited:
        return respond_429(request)
    except service.InvitationRefused as exc:
        form.add_error("email", str(exc))
    else:
        messages.success(request, f"Invitation sent to {invitation.email}. They join once they "
                                  "accept it with their own password.")
        return redirect(then)
    return None


@account_admin_required
def invitations(request: TenantRequest) -> HttpResponse:
    form = InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        sent = send_invitation(request, form, "invitations")
        if sent is not None:
            return sent
    return render(request, "console/invitations.html", {
        "form": form,
        "invitations": Invitation.objects.filter(account=request.account).select_related("invited_by__user"),
    })


def _invitation(request: TenantRequest, pk: int) -> Invitation:
    return get_object_or_404(Invitation, account=request.account, pk=pk)


@require_POST
@account_admin_required
def invitation_resend(request: TenantRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request, pk)
    try:
        service.resend(request, invitation)
    except service.SendLimited:
        return respond_429(request)
    except service.InvitationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invitation sent to {invitation.email} again.")
    return redirect("invitations")


@account_admin_required
def invitation_revoke(request: TenantRequest, pk: int) -> HttpResponse:
    """GET: asks to confirm; POST: revokes (the link stops working)."""
    invitation = _invitation(request, pk)
    if request.method != "POST":
        return render(request, "console/invitation_revoke.html", {"invitation": invitation})
    try:
        service.revoke(invitation)
    except service.InvitationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invitation of {invitation.email} revoked.")
    return redirect("invitations")


