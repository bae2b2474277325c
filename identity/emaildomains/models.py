"""An email domain (``acme.com``) an account has proven by DNS TXT, as custom domains are.

Only addresses in an account's *verified* email domains are trusted from its identity
providers (``sso``): a first SSO sign-in with such an address creates or links the member.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

import tenancy
from accounts.models import Account
from domains.models import CHALLENGE_LABEL, new_token
from tenancy.cache import invalidate_with_commit
from tenancy.wall_scoping import TenantWallManager

from .cache_keys import verified_key


class EmailDomain(models.Model):
    """One domain of one account: pending until the TXT record carries the token."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="email_domains")
    domain = models.CharField(max_length=253, help_text="e.g. acme.com")
    token = models.CharField(max_length=64, default=new_token, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_check_detail = models.CharField(max_length=255, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantWallManager()

    class Meta:
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint("account", Lower("domain"), name="emaildomains_unique_per_account"),
            models.CheckConstraint(condition=Q(domain=Lower("domain")), name="emaildomains_lower_case"),
        ]

    def __str__(self) -> str:
        return self.domain

    @property
    def is_verified(self) -> bool:
        return self.verified_at is not None

    @property
    def challenge_name(self) -> str:
        """The TXT record that proves control of the domain."""
        return f"{CHALLENGE_LABEL}.{self.domain}"

    @classmethod
    def portable_row(cls, row: dict[str, Any], account_id: int) -> dict[str, Any]:
        """An imported domain must be proven again (the token is a secret, made anew)."""
        return {**row, "token": new_token(), "verified_at": None, "last_check_detail": ""}

    @classmethod
    def portable_imported(cls, account_id: int) -> None:
        invalidate_with_commit(verified_key(account_id))


tenancy.register(EmailDomain, audit=True, portability=tenancy.Portability(
    adjust_row=EmailDomain.portable_row, imported=EmailDomain.portable_imported))
