"""The database wall: row-level security on this app's tenant tables (tenancy.wall_policy).

A no-op on SQLite, where the ORM keeps the same contract."""

from django.db import migrations

from tenancy.wall_policy import TenantWall


class Migration(migrations.Migration):
    dependencies = [("scim", "0001_initial")]

    operations = [
        TenantWall("scimtoken"),
        TenantWall("scimuser"),
    ]
