"""The database refuses DELETE and TRUNCATE of audit events outside a purge (audit.guard):
PostgreSQL asks the transaction-local setting smarter.audit_purge, SQLite the function
audit_purge_allowed() that the application registers on each connection."""

from importlib import import_module

from django.db import migrations

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION audit_event_purge_only() RETURNS trigger AS $$
    BEGIN
        IF coalesce(current_setting('smarter.audit_purge', true), '') <> 'on' THEN
            RAISE EXCEPTION 'audit events are deleted only by a purge'
                USING ERRCODE = 'restrict_violation';
        END IF;
        RETURN NULL;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_purge_only()
    """,
    """
    CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_purge_only()
    """,
]
POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent",
    "DROP TRIGGER IF EXISTS audit_event_no_delete ON audit_auditevent",
    "DROP FUNCTION IF EXISTS audit_event_purge_only()",
]
SQLITE = [
    """
    CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_auditevent
    WHEN NOT audit_purge_allowed()
    BEGIN SELECT RAISE(ABORT, 'audit events are deleted only by a purge'); END
    """,
]
SQLITE_REVERSE = ["DROP TRIGGER IF EXISTS audit_event_no_delete"]

# The vendor-keyed SQL runner of the UPDATE guard's migration.
_run = import_module("audit.migrations.0002_append_only_guard")._run


class Migration(migrations.Migration):
    dependencies = [("audit", "0002_append_only_guard")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": POSTGRES, "sqlite": SQLITE}),
            _run({"postgresql": POSTGRES_REVERSE, "sqlite": SQLITE_REVERSE}),
        ),
    ]
