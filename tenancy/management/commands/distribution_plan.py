"""Print how the tables would be distributed by tenant (Citus), or with ``--sql`` the script that
does it, and fail on any violation."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.db import connection

from tenancy.citus import citus_script
from tenancy.commands import PlatformCommand
from tenancy.distribution import DISTRIBUTED, LOCAL, REFERENCE, plan

HEADINGS = {
    REFERENCE: "Reference tables (replicated to every node)",
    DISTRIBUTED: "Distributed by {column}_id (co-located: one tenant's rows on one node)",
    LOCAL: "Local tables (coordinator only; nothing distributed references them)",
}


class Command(PlatformCommand):
    help = ("List reference, distributed and local tables and every violation (exit 1 if any); "
            "with --sql, print instead the SQL script that distributes the tables on Citus.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--sql", action="store_true",
                            help="print the whole conversion to Citus as one SQL script, each "
                                 "step saying who runs it (on PostgreSQL, foreign key names "
                                 "from this database)")

    def handle(self, *args: Any, **options: Any) -> None:
        result = plan()
        if options["sql"]:
            if not result.violations:
                self.stdout.write(citus_script(result, connection), ending="")
        else:
            for role in (REFERENCE, DISTRIBUTED, LOCAL):
                self.stdout.write(HEADINGS[role].format(column=result.column) + ":")
                for model in result.tables(role):
                    reason = result.reasons.get(model, "")
                    self.stdout.write(f"  {model._meta.db_table:<32} {model._meta.label}"
                                      + (f" - {reason}" if reason else ""))
        if result.violations:
            for violation in result.violations:
                self.stderr.write(f"violation: {violation}")
            raise CommandError(f"{len(result.violations)} violations: the tables named above "
                               f"could not be distributed by {result.column}_id as they are")
        if not options["sql"]:
            self.stdout.write(f"Every tenant table can be distributed by {result.column}_id.")
