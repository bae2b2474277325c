"""``manage.py grant_runtime_role ROLE``: the grants of the two-role layout (docs/OPERATIONS.md,
"Database roles"). Run as the owner role (the one that ran the migrations): ``ROLE`` may then
read and write every table's rows and use the sequences, now and for tables later migrations
create, but owns nothing, so it cannot ``ALTER TABLE … NO FORCE ROW LEVEL SECURITY``, drop a
policy or change the schema. Idempotent (the release phase may run it every time).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError, connection

from tenancy.commands import PlatformCommand

GRANTS = (
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public "
    "GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
    "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {role}",
)


def grant_statements(role: str) -> list[str]:
    """The SQL the command runs for ``role`` (quoted as an identifier)."""
    from psycopg import sql

    quoted = sql.Identifier(role).as_string(None)
    return [statement.format(role=quoted) for statement in GRANTS]


class Command(PlatformCommand):
    help = "Grant a runtime database role row access (DML) only, for the two-role layout"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("role", help="the role web and worker connect as")
        parser.add_argument("--print", action="store_true", dest="print_only",
                            help="print the SQL instead of running it")

    def handle(self, *args: Any, role: str, print_only: bool, **options: Any) -> None:
        if connection.vendor != "postgresql":
            raise CommandError("grant_runtime_role needs PostgreSQL (DATABASE_URL postgres://…)")
        statements = grant_statements(role)
        if print_only:
            self.stdout.write(";\n".join(statements) + ";")
            return
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = %s",
                               [role])
                row = cursor.fetchone()
                if row is None:
                    raise CommandError(f"no role {role!r}: create it first (docs/OPERATIONS.md)")
                if row[0]:
                    raise CommandError(f"{role!r} is a superuser or BYPASSRLS role: the "
                                       "database wall would not bind it")
                for statement in statements:
                    cursor.execute(statement)
        except DatabaseError as exc:
            raise CommandError(f"granting {role!r} failed: {exc}") from exc
        self.stdout.write(f"{role}: row access to every table of schema public, nothing more")
