"""Prove an email domain by DNS: the TXT record ``_smarter-challenge.<domain>`` carries the
token (the same record shape and lookups as custom domains, ``domains.lookup``)."""

from __future__ import annotations

from django.utils import timezone

from domains import lookup

from .lookup import PUBLIC_MAIL_DOMAIN, is_public_mail_domain
from .models import EmailDomain


def check_email_domain(domain: EmailDomain) -> tuple[bool, str]:
    """Look the record up (outside any transaction) and record the outcome: (verified, detail).
    A verified domain stays verified when a later check cannot complete."""
    if is_public_mail_domain(domain.domain):  # added before the rule: never (or no longer) verified
        detail = PUBLIC_MAIL_DOMAIN.format(domain=domain.domain)
        domain.last_check_detail, domain.verified_at = detail[:255], None
        domain.save(update_fields=["last_check_detail", "verified_at"])
        return False, detail
    try:
        values = lookup.txt_values(domain.challenge_name)
    except lookup.DnsLookupError as exc:
        detail = f"DNS lookup failed: {exc}"
        found = False
    else:
        found = domain.token in values
        detail = ("TXT record found." if found else
                  f"The TXT record at {domain.challenge_name} does not carry this domain's token."
                  if values else f"No TXT record at {domain.challenge_name}.")
    domain.last_check_detail = detail[:255]
    fields = ["last_check_detail"]
    if found and domain.verified_at is None:
        domain.verified_at = timezone.now()
        fields.append("verified_at")
    domain.save(update_fields=fields)
    return found, detail
