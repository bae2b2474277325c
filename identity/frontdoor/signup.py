"""The sign-up form's extra fields (allauth's ACCOUNT_SIGNUP_FORM_CLASS: allauth's own forms
module subclasses it, so this module must not import allauth's forms)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db import transaction
from django.http import HttpRequest

from accounts.models import Account, UserProfile
from tenancy.validators import validate_single_line


class CompanySignupForm(forms.Form):
    """The extra sign-up fields: the new account's company name and the person's name.

    allauth adds email and password and calls :meth:`signup` once the user is saved.
    """

    company_name = forms.CharField(max_length=255, label="Company name", validators=[validate_single_line])
    first_name = forms.CharField(max_length=150, label="First name", validators=[validate_single_line])
    last_name = forms.CharField(max_length=150, label="Last name", required=False,
                                validators=[validate_single_line])

    def clean_company_name(self) -> str:
        name = " ".join(self.cleaned_data["company_name"].split())
        if not name:
            raise forms.ValidationError("Enter the company name.")
        return name

    def signup(self, request: HttpRequest, user: Any) -> None:
        """A new Account with ``user`` as its first admin and primary contact."""
        data = self.cleaned_data
        with transaction.atomic():
            user.first_name, user.last_name = data["first_name"], data.get("last_name", "")
            user.save(update_fields=["first_name", "last_name"])
            account = Account.objects.create(company_name=data["company_name"])
            profile = UserProfile.objects.create(user=user, account=account,
                                                 role=UserProfile.ROLE_ADMIN, created_user=True)
            profile.add_to_account_contacts(is_primary=True)
        user.signup_account = account
