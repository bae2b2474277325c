"""Print how the tables would be distributed by tenant (Citus) and fail on any violation."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError
from django.db import connection

from tenancy.commands import PlatformCommand
from tenancy.distribution import DISTRIBUTED, LOCAL, REFERENCE, plan
from tenancy.wall_policy import citus_policy_sql

HEADINGS = {
    REFERENCE: "Reference tables (replicated to every node)",
    DISTRIBUTED: "Distributed by {column}_id (co-located: one tenant's rows on one node)",
    LOCAL: "Local tables (coordinator only; nothing distributed references them)",
}


class Command(PlatformCommand):
    help = ("List reference, distributed and local tables, the Citus statements that "
            "distribute the schema, and every violation (exit 1 if any).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--sql", action="store_true",
                            help="also print the Citus statements, in order, and the row-level "
                                 "security policies of the tenant tables")

    def handle(self, *args: Any, **options: Any) -> None:
        result = plan()
        for role in (REFERENCE, DISTRIBUTED, LOCAL):
            self.stdout.write(HEADINGS[role].format(column=result.column) + ":")
            for model in result.tables(role):
                reason = result.reasons.get(model, "")
                self.stdout.write(f"  {model._meta.db_table:<32} {model._meta.label}"
                                  + (f" - {reason}" if reason else ""))
        if options["sql"]:
            self.stdout.write("Citus, in this order:")
            for statement in result.citus_sql(connection):
                self.stdout.write(f"  {statement}")
            self.stdout.write("Row-level security (the database wall), after distributing:")
            for statement in citus_policy_sql():
                self.stdout.write(f"  {statement}")
        if result.violations:
            for violation in result.violations:
                self.stderr.write(f"violation: {violation}")
            raise CommandError(f"{len(result.violations)} violations: the tables named above "
                               f"could not be distributed by {result.column}_id as they are")
        self.stdout.write(f"Every tenant table can be distributed by {result.column}_id.")
