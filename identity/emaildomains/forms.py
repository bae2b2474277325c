"""The console's form to add an email domain."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from domains.hostnames import normalize_custom_domain

from .lookup import PUBLIC_MAIL_DOMAIN, is_public_mail_domain
from .models import EmailDomain


class EmailDomainForm(forms.Form):
    domain = forms.CharField(max_length=253, help_text="The part after @, e.g. acme.com")

    def __init__(self, *args: Any, account_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account_id = account_id

    def clean_domain(self) -> str:
        try:
            domain = normalize_custom_domain(self.cleaned_data["domain"])
        except ValidationError as exc:
            raise ValidationError(f"Not a domain name: {'; '.join(exc.messages)}") from None
        if is_public_mail_domain(domain):
            raise ValidationError(PUBLIC_MAIL_DOMAIN.format(domain=domain))
        if EmailDomain.objects.filter(account_id=self.account_id, domain=domain).exists():
            raise ValidationError("This account already has this domain.")
        return domain
