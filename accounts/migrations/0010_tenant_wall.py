"""The database wall: row-level security on this app's tenant tables (tenancy.wall_policy).

A no-op on SQLite, where the ORM keeps the same contract."""

from django.db import migrations

from tenancy.wall_policy import TenantWall


class Migration(migrations.Migration):
    dependencies = [("accounts", "0009_userprofile_created_user")]

    operations = [
        TenantWall("userprofile", shared_owner_column="id"),
        TenantWall("accountcontact"),
        TenantWall("apikey", shared_owner_column="user_profile_id"),
        TenantWall("handofftoken"),
        TenantWall("invitation"),
        TenantWall("dailyusage"),
        TenantWall("dailyactivemember"),
    ]
