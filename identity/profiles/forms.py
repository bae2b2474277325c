"""The one form the profile page owns: the person's name (the rest is allauth's)."""

from __future__ import annotations

from django import forms
from django.contrib.auth.models import User

from tenancy.validators import validate_single_line


class NameForm(forms.ModelForm):
    """First and last name, shown to the other members of the person's accounts."""

    class Meta:
        model = User
        fields = ["first_name", "last_name"]
        labels = {"first_name": "First name", "last_name": "Last name"}
        help_texts = {"last_name": "Other members of your accounts see your name beside your email address."}

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for field in ("first_name", "last_name"):  # the rule of every other name people see
            self.fields[field].validators.append(validate_single_line)

    def clean(self) -> dict[str, str]:
        data = super().clean() or {}
        for field in ("first_name", "last_name"):
            value = " ".join(str(data.get(field, "")).split())  # one line: names go into mail headers
            data[field] = value
        return data
