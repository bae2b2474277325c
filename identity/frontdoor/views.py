"""The front door around django-allauth: the bare domain's front page, sign-up there, the
chooser of a person's accounts and the hand-offs that move them into one (after a sign-up,
from the chooser, from the header's switcher), "find my accounts", and accepting an invitation
on the inviting host."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.models import EmailAddress, Login
from allauth.account.views import SignupView
from allauth.account.views import confirm_email as allauth_confirm_email
from allauth.account.views._decorators import sensitive_post_parameters_m
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.core.ratelimit import respond_429
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.hashers import make_password
from django.contrib.auth.views import redirect_to_login
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import invitations as service
from accounts.allauth_compat import complete_signup, perform_login, record_authentication
from accounts.emails import send_mail
from accounts.membership import AmbiguousEmail, user_for_email
from accounts.models import HandoffToken, Invitation, UserProfile
from accounts.ratelimit import consume_or_429, is_rate_limited
from accounts.requests import TenantRequest
from identity import trust
from identity.sso.policy import sso_required, sso_required_page
from tenancy.hosts import tenant_host, tenant_url
from tenancy.wall import crosses
from workspaces.views import home, visible_workspaces

from .adapter import is_platform_host, may_sign_in_here, not_a_member
from .forms import ExistingMemberForm, FindAccountsForm, NewMemberForm, SwitchForm
from .handoff import entry_url, remember_signup
from .switcher import place_named, places_of

# The address confirmation form posts on the bare domain and is redirected to the new
# tenant's host (the hand-off): the policy's form-action admits the platform's tenant hosts.
confirm_email = allauth_confirm_email


class PlatformSignupView(SignupView):
    """allauth's sign-up, on the bare domain only; the address must be verified before the
    person is handed over to their new tenant's host. Only valid sign-ups count toward the
    limits (per client address, per email address): a form sent back for a typo does not."""

    @method_decorator(login_not_required)
    @sensitive_post_parameters_m
    @method_decorator(never_cache)
    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not is_platform_host(request):
            raise Http404("Sign-up is on the platform's own domain.")
        # allauth's SignupView.dispatch would count every POST, valid or not: skipped
        return super(SignupView, self).dispatch(request, *args, **kwargs)

    @method_decorator(crosses("sign-up provisions a new account from the platform host"))
    def form_valid(self, form: Any) -> HttpResponse:
        mandatory = EmailVerificationMethod.MANDATORY
        email = form.cleaned_data["email"].strip().lower()
        limited = (consume_or_429(self.request, "signup")
                   or consume_or_429(self.request, "signup_email", key=email))
        if limited:
            return limited
        try:
            if form.account_already_exists:
                # The same answer as for a new address (allauth mails the owner instead), and
                # the same work: the new path hashes the password to store it.
                make_password(form.cleaned_data["password1"])
                return perform_login(self.request, Login(
                    user=None, email=email, signup=True,
                    email_verification=mandatory))
            self.user = form.save(self.request)
            remember_signup(self.request, self.user)
            return complete_signup(self.request, user=self.user, email_verification=mandatory)
        except ImmediateHttpResponse as exc:
            return exc.response


def front_page(request: TenantRequest) -> HttpResponse:
    """The bare domain's home: what the product is, sign up, sign in, find my accounts (and a
    signed-in person's accounts); or, as ``PLATFORM_FRONT_PAGE`` says, the default account's
    own home page instead of it or below it (public workspaces only to non-members)."""
    mode = settings.PLATFORM_FRONT_PAGE
    if mode == "account":
        return home(request)
    return render(request, "frontdoor/front_page.html", {
        "places": places_of(request.user),
        "default_content": visible_workspaces(request) if mode == "both" else None,
    })


def choose(request: HttpRequest) -> HttpResponse:
    """After a sign-in on the bare domain: the person's active accounts, one button each."""
    if not is_platform_host(request):
        raise Http404()
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    return render(request, "frontdoor/choose.html", {"places": places_of(request.user)})


@require_POST
def switch(request: HttpRequest) -> HttpResponse:
    """Move the person signed in on this host into another of their accounts, signed in
    there: a POST from their own session (CSRF), to an account where they are an active
    member now (404 for any other number), rate limited per address and per person. A
    session an account's IdP made, or an account that requires its SSO, gets that account's
    own sign-in page instead of a hand-off (:func:`handoff.entry_url`)."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("account-chooser"))
    form = SwitchForm(request.POST)
    if not form.is_valid():
        return render(request, "error.html", {"status": 400, "title": "Bad request",
                      "message": "Choose one of your accounts."}, status=400)
    limited = consume_or_429(request, "handoff")
    if limited:
        return limited
    place = place_named(request.user, form.cleaned_data["account"])
    if place is None:
        raise Http404("You are not a member of that account.")
    return redirect(entry_url(request, request.user, place.account, place.is_admin))


def handoff(request: HttpRequest, token: str) -> HttpResponse:
    """Redeem a hand-off token on the host it was issued for: signed in, on to ``next`` (a
    path of this host; the console when absent).

    The token is the proof of a finished sign-in elsewhere (with its second factor, if the
    person has one: every way into a session goes through allauth's stages), so it signs in
    without asking for the code again; the person must still be an active member here."""
    info = getattr(request, "host_info", None)
    if info is None or info.kind != "tenant":
        raise Http404()
    # the host the request reached, not the account's: a token issued for the number host is
    # not redeemed on the account's custom domain or a workspace host
    user = HandoffToken.redeem(token, host=info.host, account=request.account)  # type: ignore[attr-defined]
    if user is None:
        raise Http404("This link has expired or was used already.")
    adapter = get_adapter(request)
    if not may_sign_in_here(request, user):
        return not_a_member(request)
    next_path = request.GET.get("next", "/console/")
    if not next_path.startswith("/") or not adapter.is_safe_url(next_path):
        next_path = "/"
    adapter.login(request, user)
    record_authentication(request, user, method="handoff")
    return redirect(next_path)


@crosses("find my accounts: an address's memberships in every account")
def _active_tenants(email: str) -> list[Any]:
    """Active accounts where the address names an active member by a word that counts there
    (:func:`identity.trust.accounts_of_address`); only the address's mailbox hears of them."""
    return trust.accounts_of_address(email)


@require_http_methods(["GET", "POST"])
def find_accounts(request: HttpRequest) -> HttpResponse:
    """Mail the address the tenant hosts where it is an active member; the same answer for
    every address, rate limited per client address and per email address (429)."""
    if not is_platform_host(request):
        raise Http404()
    form = FindAccountsForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        email = form.cleaned_data["email"].strip().lower()
        limited = consume_or_429(request, "find_accounts", key=email)
        if limited:
            return limited
        tenants = [
            {"account": a, "host": tenant_host(a.account_number),
             "url": tenant_url(request, a.account_number)}
            for a in _active_tenants(email)
        ]
        send_mail("frontdoor/email/find_accounts", email, {"tenants": tenants, "email": email}, request)
        return redirect("find-accounts-sent")
    return render(request, "frontdoor/find_accounts.html", {"form": form})


def find_accounts_sent(request: HttpRequest) -> HttpResponse:
    if not is_platform_host(request):
        raise Http404()
    return render(request, "frontdoor/find_accounts_sent.html")


def _gone(request: TenantRequest, invitation: Invitation) -> HttpResponse:
    return render(request, "frontdoor/invitation_gone.html", {"invitation": invitation}, status=410)


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
    if service.is_member(request.account, invitation.email):
        # a member has the address already (SCIM or SSO made them meanwhile, say): never a
        # second user with it in the account
        return render(request, "error.html", {"status": 409, "title": "Already a member",
                      "message": f"{invitation.email} is a member of {request.account.company_name} "
                                 "already: sign in instead."}, status=409)
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
            return render(request, "frontdoor/invitation_accept.html", ctx, status=403)
        if request.method == "POST":
            if service.join(invitation, request.user):
                messages.success(request, f"You joined {request.account.company_name}.")
                return redirect("/")
            return _gone(request, invitation)
        return render(request, "frontdoor/invitation_accept.html", ctx)
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
    return render(request, "frontdoor/invitation_accept.html", ctx)
