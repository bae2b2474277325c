"""The front door around django-allauth: sign-up on the bare domain, the hand-off to the new
tenant's host, and "find my accounts"."""

from __future__ import annotations

from typing import Any

from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.internal.decorators import login_not_required
from allauth.account.internal.flows.login import perform_login
from allauth.account.internal.flows.signup import complete_signup
from allauth.account.models import EmailAddress, Login
from allauth.account.views import SignupView
from allauth.account.views import confirm_email as allauth_confirm_email
from allauth.account.views._decorators import sensitive_post_parameters_m
from allauth.core.exceptions import ImmediateHttpResponse
from csp.decorators import csp_update
from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tenancy.hosts import tenant_host, tenant_url
from tenancy.wall import crosses

from .adapter import is_platform_host
from .emails import send_mail
from .handoff import remember_signup
from .models import HandoffToken, UserProfile
from .ratelimit import consume_or_429

# The address confirmation form posts on the bare domain and is redirected to the new
# tenant's host (the hand-off); browsers hold that redirect to the page's form-action, so this
# page alone may submit towards the platform's tenant hosts (any port, for local runs).
confirm_email = csp_update(
    {"form-action": [f"*.{settings.ENVIRONMENT}.api.{settings.ROOT_DOMAIN}:*"]}
)(allauth_confirm_email)


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


def handoff(request: HttpRequest, token: str) -> HttpResponse:
    """Redeem a hand-off token on the host it was issued for: signed in, to the console."""
    info = getattr(request, "host_info", None)
    if info is None or info.kind != "tenant":
        raise Http404()
    user = HandoffToken.redeem(token, host=tenant_host(info.account_number),
                               account=request.account)  # type: ignore[attr-defined]
    if user is None:
        raise Http404("This link has expired or was used already.")
    return perform_login(request, Login(user=user, redirect_url="/console/",
                                        email_verification=EmailVerificationMethod.NONE))


class FindAccountsForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)


@crosses("find my accounts: an address's memberships in every account")
def _active_tenants(email: str) -> list[Any]:
    """Active accounts where the address names an active member (user or verified address)."""
    user_model = get_user_model()
    ids = set(user_model.objects.filter(email__iexact=email, is_active=True).values_list("pk", flat=True))
    ids |= set(user_model.objects.filter(username__iexact=email, is_active=True).values_list("pk", flat=True))
    ids |= set(EmailAddress.objects.filter(email__iexact=email, verified=True, user__is_active=True)
               .values_list("user_id", flat=True))
    profiles = (UserProfile.objects.filter(user_id__in=ids, is_active=True, account__is_active=True)
                .select_related("account").order_by("account__company_name", "account__account_number"))
    return list({p.account_id: p.account for p in profiles}.values())


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
        send_mail("accounts/email/find_accounts", email, {"tenants": tenants, "email": email}, request)
        return redirect("find-accounts-sent")
    return render(request, "accounts/find_accounts.html", {"form": form})


def find_accounts_sent(request: HttpRequest) -> HttpResponse:
    if not is_platform_host(request):
        raise Http404()
    return render(request, "accounts/find_accounts_sent.html")
