"""The database wall's policies of this app's tenant tables, renewed with the current
predicates (tenancy.wall_policy): each setting read once per statement, not once per row.

A no-op on SQLite, where the ORM keeps the same contract."""

from django.db import migrations

from tenancy.wall_policy import RenewTenantWalls


class Migration(migrations.Migration):
    dependencies = [("sso", "0002_oidc_metadata_scopes")]

    operations = [RenewTenantWalls()]
