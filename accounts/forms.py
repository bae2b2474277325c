"""Forms of the tenant login and the account admin console."""

from __future__ import annotations

from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .membership import may_sign_in
from .models import UserProfile
from .ratelimit import check_login_allowed, login_succeeded, record_login_failure


class TenantAuthenticationForm(AuthenticationForm):
    """The Django admin's base sign-in: only active members of the host's account (or
    superusers), counted against the one per-account, per-address failure limit.

    Every refusal (wrong password, unknown user, a stranger to this account, a two-factor
    user, a member who is not an admin) is the same ``invalid_login`` message: the answer
    never tells whether the password was right."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "Please enter a correct %(username)s and password of an admin of this "
                         "account. Note that both fields may be case-sensitive. Users with "
                         "two-factor authentication sign in on the sign-in page "
                         "(/login/?next=/admin/).",
    }

    def clean(self) -> dict[str, Any]:
        check_login_allowed(self.request)
        try:
            data = super().clean()
        except forms.ValidationError:
            record_login_failure(self.request)
            raise
        login_succeeded(self.request)
        return data

    def confirm_login_allowed(self, user: Any) -> None:
        if not user.is_active or not self.may_use_admin(user) or is_mfa_enabled(user):
            # is_mfa_enabled: this form has no second step (allauth's sign-in has)
            raise self.get_invalid_login_error()

    def may_use_admin(self, user: Any) -> bool:
        return may_sign_in(user, getattr(self.request, "account", None))


class TenantAdminAuthenticationForm(TenantAuthenticationForm):
    """The Django admin's sign-in: an account admin of the host's account (or a superuser),
    counted against the same per-account, per-address failure limit as the tenant login."""

    def may_use_admin(self, user: Any) -> bool:
        return super().may_use_admin(user) and (user.is_superuser or UserProfile.objects.filter(
            user=user, account=getattr(self.request, "account", None), is_active=True,
            role=UserProfile.ROLE_ADMIN).exists())
