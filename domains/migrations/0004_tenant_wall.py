"""The database wall: row-level security on this app's tenant tables (tenancy.wall_policy).

A no-op on SQLite, where the ORM keeps the same contract."""

from django.db import migrations

from tenancy.wall_policy import TenantWall


class Migration(migrations.Migration):
    dependencies = [("domains", "0003_single_line_names")]

    operations = [
        TenantWall("hostnameclaim"),
        TenantWall("domain", shared_owner_column="user_profile_id"),
    ]
