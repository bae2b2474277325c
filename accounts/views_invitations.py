"""Invitations: the console's list/invite/resend/revoke, and accepting a link on the
inviting tenant's host (anywhere else the link is a 404)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.internal.flows.login import perform_login, record_authentication
from allauth.account.models import EmailAddress, Login
from allauth.core.ratelimit import respond_429
from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from sso.policy import sso_required, sso_required_page
from tenancy.validators import validate_single_line

from . import invitations as service
from .membership import AmbiguousEmail, user_for_email
from .models import Invitation, UserProfile
from .permissions import account_admin_required
from .ratelimit import check_login_allowed, is_rate_limited, record_login_failure
from .requests import TenantRequest


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254)
    role = forms.ChoiceField(choices=UserProfile.ROLE_CHOICES, initial=UserProfile.ROLE_MEMBER)


def send_invitation(request: TenantRequest, form: InviteForm, then: str) -> HttpResponse | None:
    """Invite the valid ``form``'s address and redirect to the page named ``then`` with one
    message, the same for every address; 429 past the send limit; None when refused (the
    form carries the reason)."""
    try:
        invitation = service.invite(request, request.account, form.cleaned_data["email"],
                                    form.cleaned_data["role"], request.user_profile)
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
    return render(request, "accounts/invitations.html", {
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


@require_POST
@account_admin_required
def invitation_revoke(request: TenantRequest, pk: int) -> HttpResponse:
    invitation = _invitation(request, pk)
    try:
        service.revoke(invitation)
    except service.InvitationRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Invitation of {invitation.email} revoked.")
    return redirect("invitations")


class NewMemberForm(forms.Form):
    first_name = forms.CharField(max_length=150, label="First name", validators=[validate_single_line])
    last_name = forms.CharField(max_length=150, required=False, validators=[validate_single_line])
    password1 = forms.CharField(label="Choose a password", widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label="Password (again)", widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            probe = get_user_model()(username=self.email, email=self.email,
                                     first_name=data.get("first_name", ""))
            try:
                validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ExistingMemberForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, *args: Any, request: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request, self.user = request, user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        check_login_allowed(self.request)  # the one sign-in failure limiter
        password = data.get("password")
        if password and authenticate(self.request, username=self.user.get_username(),
                                     password=password) is None:
            record_login_failure(self.request)
            raise forms.ValidationError("Wrong password.", code="invalid_login")
        return data


def _gone(request: TenantRequest, invitation: Invitation) -> HttpResponse:
    return render(request, "accounts/invitation_gone.html", {"invitation": invitation}, status=410)


def _sign_in(request: TenantRequest, user: Any) -> HttpResponse:
    """Sign in the person who just typed their password on the invitation page. It is
    recorded as a password authentication, as allauth's sign-in does: a member sent on at
    once to set up required two-factor is not asked to confirm that password again."""
    record_authentication(request, user, method="password", username=user.get_username())
    return perform_login(request, Login(user=user, redirect_url="/",
                                        email_verification=EmailVerificationMethod.NONE))


def _new_or_passwordless_user(request: TenantRequest, invitation: Invitation, existing: Any,
                              data: dict[str, Any]) -> Any:
    """Create the invited user (or give a password-less one a password) and join, at once.

    A new user is named by the address unless someone already took that username (an
    unverified sign-up, say): then allauth's adapter picks a free one; the squatter is not
    touched and never becomes a member."""
    with transaction.atomic():
        if existing is None:
            user = get_user_model()(email=invitation.email, first_name=data["first_name"],
                                    last_name=data.get("last_name", ""))
            get_adapter(request).populate_username(request, user)
            user.set_password(data["password1"])
            user.save()
        else:
            user = existing
            user.set_password(data["password1"])
            user.first_name = user.first_name or data["first_name"]
            user.last_name = user.last_name or data.get("last_name", "")
            user.save()
        # The link reached this address: it is verified.
        EmailAddress.objects.update_or_create(user=user, email=invitation.email,
                                              defaults={"verified": True})
        if not EmailAddress.objects.filter(user=user, primary=True).exists():
            EmailAddress.objects.filter(user=user, email=invitation.email).update(primary=True)
        if not service.join(invitation, user, created_user=existing is None):
            raise IntegrityError("invitation used meanwhile")
    return user


def accept(request: TenantRequest, token: str) -> HttpResponse:
    """Open an invitation: new people choose a password; existing users confirm with theirs;
    someone signed in as another address is refused."""
    invitation = Invitation.find(request.account, token)
    if invitation is None:
        raise Http404("No such invitation on this host.")
    if not invitation.is_usable:
        return _gone(request, invitation)
    if (not request.user.is_authenticated and invitation.role != UserProfile.ROLE_ADMIN
            and sso_required(request.account)):
        return sso_required_page(request)  # members join by signing in with the account's IdP
    try:
        existing = user_for_email(invitation.email)
    except AmbiguousEmail:
        return render(request, "error.html", {"status": 409, "title": "Ask your admin",
                      "message": "Several users have this address; a platform admin must add you."},
                      status=409)
    ctx: dict[str, Any] = {"invitation": invitation, "existing": existing}
    if request.user.is_authenticated:
        if existing is None or request.user.pk != existing.pk:
            ctx["other_user"] = request.user
            return render(request, "accounts/invitation_accept.html", ctx, status=403)
        if request.method == "POST":
            if service.join(invitation, request.user):
                messages.success(request, f"You joined {request.account.company_name}.")
                return redirect("/")
            return _gone(request, invitation)
        return render(request, "accounts/invitation_accept.html", ctx)
    if existing is not None and existing.has_usable_password():
        form: forms.Form = ExistingMemberForm(request.POST or None, request=request, user=existing)
        if request.method == "POST" and form.is_valid():
            if not service.join(invitation, existing):
                return _gone(request, invitation)
            return _sign_in(request, existing)
        if is_rate_limited(form):
            return respond_429(request)
    else:
        # A new person, or a user who never had a password: the link proves the address,
        # as a password reset link would.
        form = NewMemberForm(request.POST or None, email=invitation.email)
        if request.method == "POST" and form.is_valid():
            try:
                user = _new_or_passwordless_user(request, invitation, existing, form.cleaned_data)
            except IntegrityError:
                return _gone(request, invitation)
            return _sign_in(request, user)
    ctx["form"] = form
    return render(request, "accounts/invitation_accept.html", ctx)
