"""Create a tenant account and print its number."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts.models import Account
from tenancy.commands import PlatformCommand


class Command(PlatformCommand):
    help = "Create a tenant account; prints its account number."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("company_name")
        parser.add_argument("--inactive", action="store_true", help="Create it deactivated.")

    def handle(self, *args: Any, **options: Any) -> None:
        name = options["company_name"].strip()
        if not name:
            raise CommandError("company_name must not be empty.")
        account = Account(company_name=name, is_active=not options["inactive"])
        try:
            account.full_clean(exclude=["account_number"])
        except ValidationError as exc:
            raise CommandError(f"invalid account: {exc.message_dict}") from exc
        account.save()
        self.stdout.write(account.account_number)
