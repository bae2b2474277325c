"""Forms of the tenant login and the account admin console."""

from __future__ import annotations

from typing import Any

from allauth.mfa.utils import is_mfa_enabled
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.db import IntegrityError, transaction

from tenancy.validators import validate_single_line

from .membership import AmbiguousEmail, may_sign_in, user_for_email
from .models import Account, AccountContact, UserProfile
from .ratelimit import check_login_allowed, record_login_failure
from .validators import currency_choices, language_choices, timezone_choices


class TenantAuthenticationForm(AuthenticationForm):
    """The Django admin's base sign-in: only active members of the host's account (or
    superusers), counted against the one per-account, per-address failure limit."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_member": "This account does not have a member with these credentials.",
        "mfa": "This user signs in with two-factor authentication: use the sign-in page "
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
        super().confirm_login_allowed(user)
        if not may_sign_in(user, getattr(self.request, "account", None)):
            raise forms.ValidationError(self.error_messages["not_member"], code="not_member")
        if is_mfa_enabled(user):  # this form has no second step: allauth's sign-in has
            raise forms.ValidationError(self.error_messages["mfa"], code="mfa")


class TenantAdminAuthenticationForm(TenantAuthenticationForm):
    """The Django admin's sign-in: an account admin of the host's account (or a superuser),
    counted against the same per-account, per-address failure limit as the tenant login."""

    error_messages = {
        **TenantAuthenticationForm.error_messages,
        "not_admin": "Only this account's admins can sign in to the admin site here.",
    }

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if user.is_superuser:
            return
        account = getattr(self.request, "account", None)
        if not UserProfile.objects.filter(
            user=user, account=account, is_active=True, role=UserProfile.ROLE_ADMIN
        ).exists():
            raise forms.ValidationError(self.error_messages["not_admin"], code="not_admin")


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


class AddMemberForm(forms.Form):
    """Add a person to the account: an existing user by email, or a new one.

    An existing user is the one whose username is the email, else the only user with that
    email address; their password and names are never changed here.
    """

    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False, validators=[validate_single_line])
    last_name = forms.CharField(max_length=150, required=False, validators=[validate_single_line])
    role = forms.ChoiceField(choices=UserProfile.ROLE_CHOICES, initial=UserProfile.ROLE_MEMBER)
    password = forms.CharField(
        widget=forms.PasswordInput, required=False,
        help_text="For a new user; leave empty to mail them a link to choose it.",
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def _existing_user(self, email: str) -> Any:
        """The user this email names (see ``user_for_email``); ValidationError when several
        users share the email (never guess)."""
        try:
            return user_for_email(email)
        except AmbiguousEmail:
            raise forms.ValidationError(
                "Several users have this email address; ask a platform admin to add them."
            ) from None

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        email = data.get("email")
        self.existing_user = None
        if email:
            try:
                self.existing_user = self._existing_user(email)
            except forms.ValidationError as exc:
                self.add_error("email", exc)
            else:
                if self.existing_user is not None and UserProfile.objects.filter(
                    account=self.account, user=self.existing_user
                ).exists():
                    self.add_error("email", "This person is already a member of the account.")
        password = data.get("password")
        if password and self.existing_user is None:
            try:
                validate_password(password)
            except forms.ValidationError as exc:
                self.add_error("password", exc)
        return data

    def save(self) -> UserProfile:
        data = self.cleaned_data
        user_model = get_user_model()
        try:
            with transaction.atomic():
                user = self.existing_user
                if user is None:
                    user, created = user_model.objects.get_or_create(
                        username=data["email"],
                        defaults={
                            "email": data["email"],
                            "first_name": data["first_name"],
                            "last_name": data["last_name"],
                        },
                    )
                    if created:
                        if data["password"]:
                            user.set_password(data["password"])
                        else:
                            user.set_unusable_password()
                        user.save()
                return UserProfile.objects.create(
                    user=user, account=self.account, role=data["role"]
                )
        except IntegrityError:
            self.add_error("email", "This person is already a member of the account.")
            raise


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
