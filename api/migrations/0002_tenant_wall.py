"""The database wall: row-level security on this app's tenant table (tenancy.wall_policy).

A no-op on SQLite, where the ORM keeps the same contract."""

from django.db import migrations

from tenancy.wall_policy import TenantWall


class Migration(migrations.Migration):
    dependencies = [("api", "0001_idempotent_requests")]

    operations = [
        TenantWall("idempotentrequest"),
    ]
