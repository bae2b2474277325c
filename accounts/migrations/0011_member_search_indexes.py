"""Trigram indexes on the users' names and addresses, for the console's member search
(``console.views.members.search_members``: ``~*`` on each column), PostgreSQL only.

``pg_trgm`` is a trusted extension (PostgreSQL 13+): the database's owner may create it, as
the app's role does on Heroku. Where it cannot be created the search still works, by a scan.
"""

import logging

from django.db import migrations, transaction

logger = logging.getLogger(__name__)
COLUMNS = ("username", "email", "first_name", "last_name")


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):  # a savepoint
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as exc:  # noqa: BLE001 - no extension: the search scans instead
        logger.warning("pg_trgm unavailable (%s): the member search runs without indexes", exc)
        return
    for column in COLUMNS:
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "auth_user_{column}_trgm" ON "auth_user" '
            f'USING gin ("{column}" gin_trgm_ops)')


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "auth_user_{column}_trgm"')


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0010_tenant_wall"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create, drop)]
