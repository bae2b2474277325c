"""Linking an account's IdP identity to a user who exists outside the account: only with that
person's own proof (their password, and their authenticator code when they have one), as
GitLab ("link SAML to your existing account") and Sentry (password before linking) ask.

The sign-in is held in the session (this host's, a few minutes) while the person confirms on
``/accounts/sso/link/``; the proof links the identity and makes the membership, then the
person signs in through the IdP again (that sign-in is the account's, as every SSO session).
Wrong passwords count in the one sign-in failure limiter.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from accounts.allauth_compat import totp_code_is_valid
from accounts.ratelimit import check_login_allowed, is_rate_limited, login_succeeded, record_login_failure

from .caching import ProviderConfig, provider_by_slug
from .signin import SESSION_KEY, ensure_member, linked

PENDING_SECONDS = 600


def _has_totp(user: Any) -> Any:
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()


class LinkForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    code = forms.CharField(required=False, max_length=12, label="Authenticator code",
                           help_text="If this user has two-factor authentication.",
                           widget=forms.TextInput(attrs={"autocomplete": "one-time-code",
                                                         "inputmode": "numeric"}))

    def __init__(self, *args: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request, self.user = request, user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        check_login_allowed(self.request)
        ok = self.user.is_active and self.user.check_password(data.get("password") or "")
        totp = _has_totp(self.user) if ok else None
        if totp is not None:
            ok = totp_code_is_valid(totp, (data.get("code") or "").strip())
        if not ok:
            record_login_failure(self.request)
            raise forms.ValidationError("Wrong password or code.", code="invalid_login")
        login_succeeded(self.request)
        return data


def _pending(request: HttpRequest) -> dict[str, Any] | None:
    pending = request.session.get(SESSION_KEY)
    account = getattr(request, "account", None)
    if (not isinstance(pending, dict) or account is None or pending.get("account") != account.pk
            or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS):
        return None
    return pending


@require_http_methods(["GET", "POST"])
def confirm_link(request: HttpRequest) -> HttpResponse:
    """The page the held sign-in lands on: confirm with the existing user's own credentials."""
    pending = _pending(request)
    config = provider_by_slug(request.account.pk, pending["provider"]) if pending else None  # type: ignore[attr-defined]
    user = get_user_model().objects.filter(pk=pending["user"]).first() if pending else None
    if pending is None or config is None or user is None:
        request.session.pop(SESSION_KEY, None)
        raise Http404("No sign-in is waiting to be linked; sign in with your identity provider again.")
    form = LinkForm(request.POST or None, request=request, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            done = _link(request, pending, user, config)
        except ImmediateHttpResponse as refused:  # a deactivated membership
            request.session.pop(SESSION_KEY, None)
            return refused.response
        if done:
            messages.success(request, f"Your {config.name} sign-in is linked to your user. "
                                      f"Sign in with {config.name} to continue.")
        request.session.pop(SESSION_KEY, None)
        return redirect("login")
    status = 429 if is_rate_limited(form) else 200
    return render(request, "sso/link.html", {"form": form, "email": pending["email"],
                                             "provider": config}, status=status)


def _link(request: HttpRequest, pending: dict[str, Any], user: Any, config: ProviderConfig) -> bool:
    """Link the identity and make the membership (the person proved who they are)."""
    from allauth.socialaccount.models import SocialAccount

    try:
        with transaction.atomic():
            account, made = SocialAccount.objects.get_or_create(
                provider=config.slug, uid=pending["uid"],
                defaults={"user": user, "extra_data": pending.get("extra_data") or {}})
            if not made and account.user_id != user.pk:
                return False
            ensure_member(request, user, pending["role"], created_user=False)
    except IntegrityError:
        return False
    linked(request, user, config, proof="password")
    return True
