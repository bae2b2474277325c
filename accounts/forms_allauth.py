"""allauth's forms with the tenant rules (ACCOUNT_FORMS)."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import ResetPasswordForm, SignupForm
from allauth.account.internal.userkit import filter_users_by_email
from allauth.core import context
from django.core.validators import MaxLengthValidator

from .membership import may_sign_in

EMAIL_MAX_LENGTH = 254  # RFC 5321's path limit, and User.email's column


class TenantResetPasswordForm(ResetPasswordForm):
    """Reset mails go only to members of the host's account; every address gets the same
    answer (allauth's enumeration prevention)."""

    def clean_email(self) -> str:
        email = super().clean_email()
        account = getattr(context.request, "account", None)
        users: list = getattr(self, "users", [])
        from sso.policy import sso_required_for  # members of a required-SSO account: no reset

        self.users = [u for u in users if may_sign_in(u, account) and not sso_required_for(u, account)]
        return email


class TenantSignupForm(SignupForm):
    """A taken address gets the same answer as a new one (allauth mails its owner instead of
    creating a user): allauth does that only when verification is mandatory everywhere, and
    here it is mandatory for sign-up only."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        email = self.fields["email"]  # allauth sets no bound: a longer address was cut to 254
        email.max_length = EMAIL_MAX_LENGTH
        email.validators.append(MaxLengthValidator(EMAIL_MAX_LENGTH))
        email.widget.attrs["maxlength"] = str(EMAIL_MAX_LENGTH)

    def validate_unique_email(self, value: str) -> str:
        if filter_users_by_email(value):
            self.account_already_exists = True
            return value
        return super().validate_unique_email(value)
