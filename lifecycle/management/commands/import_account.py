"""Import an account's export: a new account (clone, move) or an empty one (restore)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError

from lifecycle.importer import import_account
from lifecycle.manifest import ImportRefused
from tenancy.commands import PlatformCommand


class Command(PlatformCommand):
    help = ("Import EXPORT.zip (written by the console's export or export_account) as a new "
            "account (--new) or into an existing empty one (--into). One transaction: a refused "
            "or failed import writes nothing.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("export", help="The export's zip file.")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--new", action="store_true", help="Create a new account.")
        target.add_argument("--into", metavar="NUMBER",
                            help="Restore into this empty (or purged) account.")
        parser.add_argument("--number", metavar="NUMBER",
                            help="With --new: the new account's number (must be free).")
        parser.add_argument("--invite", action="store_true",
                            help="Mail the users created without a password a link to choose one.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["number"] and not options["new"]:
            raise CommandError("--number goes with --new")
        try:
            with open(options["export"], "rb") as source:
                report = import_account(source, number=options["number"], into=options["into"],
                                        invite=options["invite"])
        except OSError as exc:
            raise CommandError(f"cannot read {options['export']}: {exc.strerror or exc}") from None
        except ImportRefused as exc:
            raise CommandError(f"import refused, nothing written: {exc}") from None
        for line in report.lines():
            self.stdout.write(line)
