"""Forms of the tenant login and the account admin console."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.password_validation import validate_password
from django.core.cache import cache
from django.db import IntegrityError, transaction

from tenancy.client_ip import client_ip

from .models import Account, AccountContact, UserProfile


class LoginRateLimited(forms.ValidationError):
    """Too many failed sign-ins for this account from this address."""


def is_rate_limited(form: forms.Form) -> bool:
    """Whether a sign-in form was refused because of the failure limit (answer 429)."""
    return any(isinstance(e, LoginRateLimited) for e in form.non_field_errors().as_data())


class TenantAuthenticationForm(AuthenticationForm):
    """Sign-in that only admits active members of the host's account (or superusers).

    Failed attempts are counted per account and client address; past
    ``LOGIN_RATE_LIMIT`` in ``LOGIN_RATE_WINDOW`` seconds sign-in is refused.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "not_member": "This account does not have a member with these credentials.",
        "rate_limited": "Too many failed attempts. Wait a few minutes and try again.",
    }

    def _rate_key(self) -> str:
        account = getattr(self.request, "account", None)
        address = client_ip(self.request) if self.request is not None else "unknown"
        return f"login:fail:{getattr(account, 'pk', 0)}:{address}"

    def clean(self) -> dict[str, Any]:
        key = self._rate_key()
        if (cache.get(key) or 0) >= settings.LOGIN_RATE_LIMIT:
            raise LoginRateLimited(self.error_messages["rate_limited"], code="rate_limited")
        try:
            return super().clean()
        except forms.ValidationError:
            try:
                cache.add(key, 0, settings.LOGIN_RATE_WINDOW)
                cache.incr(key)
            except ValueError:
                cache.set(key, 1, settings.LOGIN_RATE_WINDOW)
            raise

    def confirm_login_allowed(self, user: Any) -> None:
        super().confirm_login_allowed(user)
        if user.is_superuser:
            return
        account = getattr(self.request, "account", None)
        ok = account is not None and UserProfile.objects.filter(
            user=user, account=account, is_active=True
        ).exists()
        if not ok:
            raise forms.ValidationError(self.error_messages["not_member"], code="not_member")


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
        if not (user.is_staff and UserProfile.objects.filter(
            user=user, account=account, is_active=True, role=UserProfile.ROLE_ADMIN
        ).exists()):
            raise forms.ValidationError(self.error_messages["not_admin"], code="not_admin")


class AccountDetailsForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = [
            "company_name", "phone_number", "address1", "address2", "city", "state",
            "postal_code", "country", "language", "timezone", "currency",
        ]


class AddMemberForm(forms.Form):
    """Add a person to the account: an existing user by email, or a new one.

    An existing user is the one whose username is the email, else the only user with that
    email address; their password and names are never changed here.
    """

    email = forms.EmailField()
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    role = forms.ChoiceField(choices=UserProfile.ROLE_CHOICES, initial=UserProfile.ROLE_MEMBER)
    password = forms.CharField(
        widget=forms.PasswordInput, required=False,
        help_text="For a new user; leave empty to have them set it later.",
    )

    def __init__(self, *args: Any, account: Account, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()

    def _existing_user(self, email: str) -> Any:
        """The user this email names: the one so named, else the only one with that email.

        Raises ValidationError when several users share the email (never guess).
        """
        user_model = get_user_model()
        user = user_model.objects.filter(username__iexact=email).order_by("pk").first()
        if user is not None:
            return user
        matches = list(user_model.objects.filter(email__iexact=email).order_by("pk")[:2])
        if len(matches) > 1:
            raise forms.ValidationError(
                "Several users have this email address; ask a platform admin to add them."
            )
        return matches[0] if matches else None

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
