"""The account admin console's forms (each product app's own model forms stay in that app)."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Account, AccountContact, UserProfile
from accounts.validators import currency_choices, language_choices, timezone_choices
from tenancy.validators import validate_single_line


class AccountDetailsForm(forms.ModelForm):
    language = forms.ChoiceField(choices=language_choices, label="Language",
                                 help_text=Account._meta.get_field("language").help_text)
    timezone = forms.ChoiceField(choices=timezone_choices, label="Time zone",
                                 help_text=Account._meta.get_field("timezone").help_text)
    currency = forms.ChoiceField(choices=currency_choices, label="Currency",
                                 help_text=Account._meta.get_field("currency").help_text)

    class Meta:
        model = Account
        fields = [
            "company_name", "phone_number", "address1", "address2", "city", "state",
            "postal_code", "country", "language", "timezone", "currency", "require_mfa",
        ]


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=UserProfile.ROLE_CHOICES, label="Role",
                             help_text=UserProfile._meta.get_field("role").help_text)


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


class InviteForm(forms.Form):
    email = forms.EmailField(max_length=254, label="Email address",
                             help_text="We email them a link to join. Nobody joins without accepting.")
    role = forms.ChoiceField(choices=UserProfile.ROLE_CHOICES, initial=UserProfile.ROLE_MEMBER, label="Role",
                             help_text=UserProfile._meta.get_field("role").help_text)


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=255, validators=[validate_single_line], label="Name",
                           help_text="Something to recognise the key by, e.g. Billing sync.")
    owner = forms.ModelChoiceField(queryset=UserProfile.objects.none(), required=False, label="Acts as",
                                   help_text="The key can do what this person can do. Empty: you.")
    expires_days = forms.IntegerField(min_value=1, max_value=3650, required=False,
                                      label="Expires after (days)",
                                      help_text="Leave it empty for a key that never expires.")

    def __init__(self, *args: object, account: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["owner"].queryset = (  # type: ignore[attr-defined]
            UserProfile.objects.filter(account=account, is_active=True, user__is_active=True)
            .select_related("user").order_by("user__username")
        )
        self.fields["owner"].label_from_instance = lambda p: p.user.username  # type: ignore[attr-defined]
