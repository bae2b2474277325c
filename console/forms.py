"""The account admin console's forms (each product app's own model forms stay in that app)."""

from __future__ import annotations

from typing import Any

from django import forms

from accounts.models import Account, AccountContact, UserProfile
from accounts.validators import currency_choices, language_choices, timezone_choices
from audit.filters import AuditFilterForm, IsoDateField
from audit.sentences import ACTIONS, KINDS
from tenancy.operation import SOURCE_LABELS
from tenancy.validators import validate_single_line

DATE_HELP = "Enter a date as year-month-day, for example 2026-12-03."


class AccountDetailsForm(forms.ModelForm):
    """The account's name, address and preferences; each preference is chosen from a list."""

    language = forms.ChoiceField(
        choices=language_choices,
        help_text="The language your members see this account's pages and emails in.")
    timezone = forms.ChoiceField(
        choices=timezone_choices, label="Time zone",
        help_text="Where your company is, for the dates and times shown to your members.")
    currency = forms.ChoiceField(
        choices=currency_choices,
        help_text="The currency prices and invoices of this account are shown in.")

    class Meta:
        model = Account
        fields = [
            "company_name", "phone_number", "address1", "address2", "city", "state",
            "postal_code", "country", "language", "timezone", "currency",
        ]
        labels = {"address1": "Address", "address2": "Address (second line)",
                  "state": "State or region", "phone_number": "Phone number"}
        help_texts = {
            "company_name": "Shown to your members at the top of every page and in every email.",
            "phone_number": "Where the platform's support can call you about this account.",
            "address2": "Building, floor or suite, if any.",
        }


class SecurityForm(forms.ModelForm):
    """The account's sign-in rules (the Security page); more join as the platform grows."""

    class Meta:
        model = Account
        fields = ["require_mfa"]
        labels = {"require_mfa": "Require two-factor authentication"}
        help_texts = {"require_mfa": (
            "Everyone in this account, you included, must set up an authenticator app before they "
            "can open any page here. Members who have not done so yet are asked to at their next "
            "page.")}


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


ACTOR_CHOICES_MAX = 200  # members listed in the actor filter; a larger account types a username


class AuditLogFilterForm(AuditFilterForm):
    """The console's audit filters: selects for what happened, to what kind of thing and (in
    accounts of up to 200 members) who did it; dates that say what is wrong with them."""

    action = forms.ChoiceField(  # type: ignore[assignment]
        required=False, label="What happened", choices=[("", "Anything")] + list(ACTIONS.items()))
    target_kind = forms.ChoiceField(  # type: ignore[assignment]
        required=False, label="Kind", choices=[("", "Any kind")] + list(KINDS.items()))
    target_id = None  # type: ignore[assignment]  # the API's; the console links no ids
    source = forms.ChoiceField(required=False, label="Done through",
                               choices=[("", "Anywhere"), *SOURCE_LABELS.items()])
    since = IsoDateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}),
                         error_messages={"invalid": DATE_HELP})
    until = IsoDateField(required=False, label="Until", widget=forms.DateInput(attrs={"type": "date"}),
                         error_messages={"invalid": DATE_HELP})

    def __init__(self, *args: Any, actors: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["actor"].label = "Who"
        if actors is not None:
            self.fields["actor"] = forms.ChoiceField(
                required=False, label="Who", choices=[("", "Anyone")] + [(a, a) for a in actors])
        else:
            self.fields["actor"].help_text = "A username."

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", f"“Until” ({until:%Y-%m-%d}) is before “From” ({since:%Y-%m-%d}).")
        return data


def audit_actors(account: Account) -> list[str] | None:
    """The account's members' usernames for the actor select, or None past
    ``ACTOR_CHOICES_MAX`` (one query, at most that many rows)."""
    names = list(UserProfile.objects.filter(account=account).order_by("user__username")
                 .values_list("user__username", flat=True)[:ACTOR_CHOICES_MAX + 1])
    return None if len(names) > ACTOR_CHOICES_MAX else names


class ScimTokenForm(forms.Form):
    name = forms.CharField(max_length=255, validators=[validate_single_line],
                           help_text="Which identity provider uses it, e.g. Okta.")
