"""The database wall: row-level security on this app's tenant tables (tenancy.wall_policy).

A no-op on SQLite, where the ORM keeps the same contract."""

from django.db import migrations

from tenancy.wall_policy import TenantWall


class Migration(migrations.Migration):
    dependencies = [("workspaces", "0003_account_id_unique")]

    operations = [
        TenantWall("workspace", shared_owner_column="user_profile_id"),
    ]
