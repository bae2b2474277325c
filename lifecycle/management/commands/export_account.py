"""Write one account's export to a file (what the console's export mails, for operators)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from accounts.management.options import account_from_option
from lifecycle.export import write_export
from tenancy.commands import PlatformCommand


class Command(PlatformCommand):
    help = "Write the export of account NUMBER (a zip with a versioned manifest) to OUTPUT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("account", help="Account number NNNN-NNNN-NNNN.")
        parser.add_argument("output", help="The zip file to write.")

    def handle(self, *args: Any, **options: Any) -> None:
        account = account_from_option(options["account"], active_only=False)
        try:
            with open(options["output"], "xb") as out:
                counts = write_export(account, out)
        except OSError as exc:
            raise CommandError(f"cannot write {options['output']}: {exc.strerror or exc}") from None
        self.stdout.write(f"exported {account.account_number}: {sum(counts.values())} rows in "
                          f"{len(counts)} files to {options['output']}")
