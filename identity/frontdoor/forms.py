"""The front door's forms: allauth's with the tenant rules (ACCOUNT_FORMS, MFA_FORMS), accepting
an invitation, and "find my accounts"."""

from __future__ import annotations

from typing import Any

from allauth.account.forms import ResetPasswordForm, SignupForm, UserTokenForm
from allauth.core import context
from allauth.mfa.totp.forms import ActivateTOTPForm
from django import forms
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.validators import MaxLengthValidator
from django.db import DatabaseError

from accounts.allauth_compat import filter_users_by_email, pending_totp_secret
from accounts.ratelimit import check_login_allowed, login_succeeded, record_login_failure
from accounts.reset_keys import request_host, reset_keys_for
from identity.sso.policy import sso_required_for
from tenancy.validators import validate_single_line

from .adapter import may_sign_in_here

EMAIL_MAX_LENGTH = 254  # RFC 5321's path limit, and User.email's column


class TenantResetPasswordForm(ResetPasswordForm):
    """Reset mails go only to people who may sign in on this host (members of a tenant's
    account; anyone on the bare domain); every address gets the same answer (allauth's
    enumeration prevention)."""

    def clean_email(self) -> str:
        email = super().clean_email()
        users: list = getattr(self, "users", [])
        account = getattr(context.request, "account", None)
        # members of an account that requires SSO get no reset
        self.users = [u for u in users if may_sign_in_here(context.request, u)
                      and not sso_required_for(u, account)]
        return email

    def save(self, request: Any, **kwargs: Any) -> str:
        """The mailed key works on this host only (:mod:`accounts.reset_keys`)."""
        return str(super().save(request, token_generator=reset_keys_for(request_host(request)), **kwargs))


class HostBoundUserTokenForm(UserTokenForm):
    """allauth's check of a reset key, against keys of the host the request reached: a key
    issued for another host (the account's custom domain, another account) is a bad key."""

    @property  # type: ignore[override]
    def token_generator(self) -> Any:
        return reset_keys_for(request_host(context.request))


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


class PendingSecretActivateTOTPForm(ActivateTOTPForm):
    """allauth's activation form, without a new secret on every GET: the session keeps one
    pending secret until activation succeeds (allauth clears it then), so a reload, a
    second tab or a stray request to the page never invalidates the QR code on screen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # allauth's __init__ regenerates the secret for an unbound form: skip it, keep its fields.
        self.user = kwargs.pop("user")
        forms.Form.__init__(self, *args, **kwargs)
        self.secret = pending_totp_secret()


class NewMemberForm(forms.Form):
    first_name = forms.CharField(max_length=150, label="First name", validators=[validate_single_line])
    last_name = forms.CharField(max_length=150, required=False, validators=[validate_single_line])
    password1 = forms.CharField(label="Choose a password", widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))
    password2 = forms.CharField(label="Password (again)", widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", "The two passwords differ.")
        elif p1:
            probe = get_user_model()(username=self.email, email=self.email,
                                     first_name=data.get("first_name", ""))
            try:
                validate_password(p1, probe)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class ExistingMemberForm(forms.Form):
    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))

    def __init__(self, *args: Any, request: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.request, self.user = request, user

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        check_login_allowed(self.request)  # the one sign-in failure limiter
        password = data.get("password")
        try:
            wrong = bool(password) and authenticate(
                self.request, username=self.user.get_username(), password=password) is None
        except DatabaseError:
            login_succeeded(self.request)  # not a wrong password: the outage is not counted
            raise
        if wrong:
            record_login_failure(self.request)
            raise forms.ValidationError("Wrong password.", code="invalid_login")
        login_succeeded(self.request)
        return data


class FindAccountsForm(forms.Form):
    email = forms.EmailField(label="Email address", max_length=254)


class SwitchForm(forms.Form):
    """The account the person moves into (the chooser's and the switcher's buttons)."""

    account = forms.RegexField(regex=r"^[0-9]{4}-[0-9]{4}-[0-9]{4}$", max_length=14)
