"""The account-closure confirmation: the account number typed out, and the admin's password."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Account


class CloseAccountForm(forms.Form):
    confirm = forms.CharField(
        label="Type the account number to confirm", max_length=32,
        help_text="The number shown at the top of the page, e.g. 3141-5926-5359.",
    )
    password = forms.CharField(label="Your password", widget=forms.PasswordInput, max_length=256)

    def __init__(self, *args: Any, account: Account, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account = account
        self.user = user

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value != self.account.account_number:
            raise forms.ValidationError("This is not the number of this account.")
        return value

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("The password is not correct.")
        return password

    def clean(self) -> dict[str, Any]:
        if self.account.is_default_account:
            raise forms.ValidationError("The platform's default account can never be closed.")
        return super().clean() or {}
