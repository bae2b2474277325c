"""The account's canonical domain: at most one, changed under the account's row lock."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Account

from .models import Domain


def set_canonical(account: Account, domain: Domain | None) -> None:
    """Make ``domain`` the account's only canonical domain (None: no canonical domain)."""
    with transaction.atomic():
        list(Account.objects.select_for_update().filter(pk=account.pk).values_list("pk"))
        for other in Domain.objects.filter(account=account, is_canonical=True):
            if domain is None or other.pk != domain.pk:
                other.is_canonical = False
                other.save(update_fields=["is_canonical", "updated_at"])
        if domain is not None and not domain.is_canonical:
            domain.is_canonical = True
            domain.save(update_fields=["is_canonical", "updated_at"])
