"""The account-closure confirmation: the account number typed out, and the admin's password."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest

from accounts.models import Account
from accounts.ratelimit import check_login_allowed, login_succeeded, record_login_failure


class CloseAccountForm(forms.Form):
    confirm = forms.CharField(
        label="Type the account number to confirm", max_length=32,
        help_text="The number shown at the top of the page, such as 3141-5926-5359.",
    )
    password = forms.CharField(label="Your password", widget=forms.PasswordInput, max_length=256)

    def __init__(self, *args: Any, account: Account, request: HttpRequest, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.request = request
        self.user = request.user

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.account.account_number:
            raise forms.ValidationError("This is not the number of this account.")
        return value

    def clean_password(self) -> str:
        """The admin's password, behind the one sign-in failure limiter (a guess here counts
        as a failed sign-in, and a limited address may not guess at all)."""
        check_login_allowed(self.request)
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            record_login_failure(self.request)
            raise forms.ValidationError("The password is not correct.")
        login_succeeded(self.request)
        return password

    def clean(self) -> dict[str, Any]:
        if self.account.is_default_account:
            raise forms.ValidationError("The platform's default account can never be closed.")
        return super().clean() or {}
