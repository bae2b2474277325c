"""Argument handling shared by the accounts management commands."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts.models import Account
from accounts.models.account import validate_account_number


def account_from_option(number: str, *, active_only: bool) -> Account:
    """The account named by ``--account``; a clear CommandError when it is malformed or absent."""
    try:
        validate_account_number(number)
    except ValidationError as exc:
        raise CommandError(
            f"--account {number!r} is not an account number (NNNN-NNNN-NNNN)."
        ) from exc
    account = Account.objects.filter(account_number=number).first()
    if account is None or (active_only and not account.is_active):
        raise CommandError(f"No {'active ' if active_only else ''}account {number}.")
    return account
