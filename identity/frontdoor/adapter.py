"""django-allauth, tenant-aware: who may sign in on which host, where sign-up is open, how
links and mails are built.

* Sign-in on a tenant host admits active members of the host's account (platform superusers
  aside); on the bare domain any active user (one sign-in for all accounts): they are then
  handed over to their one account, or choose among them. Failures count in the one
  per-account, per-address limiter of :mod:`accounts.ratelimit`.
* Sign-up is open on the bare domain only, while ``SIGNUP_OPEN`` is on.
* Links are built from the request's validated host (``request.get_host()``; Django ignores
  ``X-Forwarded-Host`` since ``USE_X_FORWARDED_HOST`` is off).
* Mails go through :func:`accounts.emails.send_mail`.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from accounts import emails
from accounts.allauth_compat import authentication_records, clear_login
from accounts.membership import may_sign_in
from accounts.ratelimit import check_login_allowed, login_succeeded, record_login_failure
from identity.sso.policy import refuse_password_sign_in  # required SSO
from tenancy.client_ip import client_ip
from tenancy.hosts import tenant_url

from .handoff import entry_url, handoff_url_after_signup, signup_account
from .switcher import is_default_member, places_of

#: allauth mails about an address with no (or an existing) account: see send_mail.
FRONT_DOOR_MAILS = ("account/email/unknown_account", "account/email/account_already_exists")


def is_platform_host(request: HttpRequest | None) -> bool:
    info = getattr(request, "host_info", None)
    return info is not None and info.kind == "platform"


def may_sign_in_here(request: HttpRequest | None, user: Any) -> bool:
    """Who may sign in on this host: on the bare domain any active user (their accounts are
    listed there, nothing of the default account is shown to a non-member), on any other host
    the active members of its account (and platform superusers)."""
    if is_platform_host(request):
        return user is not None and user.is_active
    return may_sign_in(user, getattr(request, "account", None))


def not_a_member(request: HttpRequest) -> HttpResponse:
    """The one refusal of a way in for someone who is no active member here (403)."""
    return render(request, "error.html", {
        "status": 403, "title": "Not a member",
        "message": "This account has no active member with these credentials.",
    }, status=403)


class TenantAccountAdapter(DefaultAccountAdapter):
    def get_client_ip(self, request: HttpRequest) -> str:
        address = client_ip(request)
        try:
            return str(ipaddress.ip_address(address))
        except ValueError:
            return "0.0.0.0"  # noqa: S104 - a key for the limiter, not a bind address

    # --- sign-in ------------------------------------------------------------------------
    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """Our limiter replaces allauth's per-login one (one limiter for all sign-in paths)."""
        self._login_failed_rl_usage = None
        check_login_allowed(request)

    def authenticate(self, request: HttpRequest, **credentials: Any) -> Any:
        try:
            user = super().authenticate(request, **credentials)
        except DatabaseError:
            login_succeeded(request)  # not a wrong password: the attempt is not held against it
            raise
        if user is not None and not may_sign_in_here(request, user):
            self.authentication_failed(request, **credentials)
            return None  # the same answer as a wrong password: no membership enumeration
        if user is not None:
            login_succeeded(request)
        return user

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        record_login_failure(request)

    def pre_login(self, request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse | None:
        """Every way in (password, reset, invitation, hand-off) ends here: strangers to this
        host's account are refused. A sign-up on the bare domain goes on to its mandatory
        email verification, which ends in the hand-off instead of a sign-in here."""
        if kwargs.get("signup") and is_platform_host(request):
            return super().pre_login(request, user, **kwargs)
        if user.is_active and not may_sign_in_here(request, user):
            clear_login(request)
            return not_a_member(request)
        refused = refuse_password_sign_in(request, user, **kwargs)
        if refused is not None:
            return refused
        return super().pre_login(request, user, **kwargs)

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        """On the bare domain: a person with exactly one account goes straight there, signed
        in (a hand-off, issued only while answering the sign-in's own POST); anyone else to
        the chooser, except the default account's members and operators with no other
        account, who stay on the bare domain's home page."""
        if not is_platform_host(request):
            return super().get_login_redirect_url(request)
        user = request.user
        places = places_of(user)
        stays = is_default_member(user) or user.is_superuser
        if len(places) == 1 and not stays and request.method == "POST":
            return entry_url(request, user, places[0].account, places[0].is_admin)
        if places or not stays:
            return reverse("account-chooser")
        return super().get_login_redirect_url(request)

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """A sign-in within the re-authentication timeout counts as recent: a member made to
        set up MFA right after signing in is not asked for their password twice."""
        required = super().is_reauthentication_required(app=app, **kwargs)
        if not required or app != "allauth.mfa":
            return required
        import time

        from allauth.account import app_settings

        request = self.request
        records = authentication_records(request, request.user) if request is not None else []
        return not (records and time.time() - records[-1]["at"] < app_settings.REAUTHENTICATION_TIMEOUT)

    def is_safe_url(self, url: str | None) -> bool:
        """``next=`` (sign-in, sign-out, ...) may name a path or this very host only: never
        another tenant's host under the root or another tenant's custom domain."""
        request = self.request
        if request is None or not url:
            return False
        return url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure())

    # --- sign-up ------------------------------------------------------------------------
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return bool(settings.SIGNUP_OPEN) and is_platform_host(request)

    def populate_username(self, request: HttpRequest, user: Any) -> None:
        """New users are named by their email address, as members added by an admin are."""
        email = (user.email or "").strip().lower()
        if email and not get_user_model().objects.filter(username__iexact=email).exists():
            user.username = email
            return
        super().populate_username(request, user)

    def get_email_verification_redirect_url(self, email_address: Any) -> str:
        """After a sign-up's verification on the bare domain: to the new tenant's host."""
        url = handoff_url_after_signup(self.request, email_address.user)
        return url or super().get_email_verification_redirect_url(email_address)

    # --- mail ---------------------------------------------------------------------------
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        context = {"email": email, **context}
        if template_prefix in FRONT_DOOR_MAILS and self.request is not None:
            # Links that work from this host: sign-up only where it is open, and the bare
            # domain's find-my-accounts (a tenant's sign-up or reset would be a dead end).
            context["find_accounts_url"] = tenant_url(self.request, None) + "accounts/find/"
            if not self.is_open_for_signup(self.request):
                context.pop("signup_url", None)
        user = context.get("user")
        if template_prefix.endswith("_signup") and user is not None:
            context.setdefault("account", signup_account(user))  # the new account, not ours
        emails.send_mail(template_prefix, email, context, self.request)

    def format_email_subject(self, subject: str) -> str:
        return subject  # accounts.emails prefixes the account's name
