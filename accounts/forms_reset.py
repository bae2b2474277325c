"""Password reset limited to the host's account (allauth's ACCOUNT_FORMS["reset_password"])."""

from __future__ import annotations

from allauth.account.forms import ResetPasswordForm
from allauth.core import context

from .membership import may_sign_in


class TenantResetPasswordForm(ResetPasswordForm):
    """Reset mails go only to members of the host's account; every address gets the same
    answer (allauth's enumeration prevention)."""

    def clean_email(self) -> str:
        email = super().clean_email()
        account = getattr(context.request, "account", None)
        users: list = getattr(self, "users", [])
        self.users = [u for u in users if may_sign_in(u, account)]
        return email
