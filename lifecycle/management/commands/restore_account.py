"""Restore a closed account before its purge (platform operators)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from accounts.management.options import account_from_option
from lifecycle.closure import ClosureError, restore_account
from tenancy.commands import PlatformCommand


class Command(PlatformCommand):
    help = "Reopen a closed account (before it is purged)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("account", help="Account number NNNN-NNNN-NNNN.")

    def handle(self, *args: Any, **options: Any) -> None:
        account = account_from_option(options["account"], active_only=False)
        try:
            restore_account(account)
        except ClosureError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"restored {account.account_number}")
