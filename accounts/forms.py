"""Forms of the tenant login and the account admin console."""

from __future__ import annotations

from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django import forms
from django.contrib.auth.forms import AuthenticationForm

from .membership import may_sign_in
from .models import Account, AccountContact, UserProfile
from .ratelimit import check_login_allowed, record_login_failure
from .validators import currency_choices, language_choices, timezone_choices


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
            return super().clean()
        except forms.ValidationError:
            record_login_failure(self.request)
            raise

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


class AccountDetailsForm(forms.ModelForm):
    language = forms.ChoiceField(choices=language_choices)
    timezone = forms.ChoiceField(choices=timezone_choices)
    currency = forms.ChoiceField(choices=currency_choices)

    class Meta:
        model = Account
        fields = [
            "company_name", "phone_number", "address1", "address2", "city", "state",
            "postal_code", "country", "language", "timezone", "currency", "require_mfa",
        ]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=UserProfile.ROLE_CHOICES)


class ContactForm(forms.ModelForm):
    class Meta:
        model = AccountContact
        fields = ["email", "first_name", "last_name", "phone"]

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.account = account

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip().lower()
        if AccountContact.objects.filter(account=self.instance.account, email=email).exists():
            raise forms.ValidationError("This email is already a contact of the account.")
        return email
