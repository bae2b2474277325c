# On PostgreSQL, a workspace's (account_id, user_profile_id) must name a profile of the same
# account: the workspace stays in its owner's account in the database too, and the foreign key
# carries the distribution column as Citus requires. (SQLite cannot add a constraint to an
# existing table; save() copies the owner's account there.)

from django.db import migrations

OWNER_SAME_ACCOUNT = (
    "ALTER TABLE workspaces_workspace ADD CONSTRAINT workspaces_workspace_owner_same_account "
    "FOREIGN KEY (account_id, user_profile_id) REFERENCES accounts_userprofile (account_id, id) "
    "DEFERRABLE INITIALLY DEFERRED"
)


def add_owner_same_account(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(OWNER_SAME_ACCOUNT)


def drop_owner_same_account(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE workspaces_workspace "
                              "DROP CONSTRAINT workspaces_workspace_owner_same_account")


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0003_distribution_keys"),
        ("workspaces", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(add_owner_same_account, drop_owner_same_account, elidable=False),
    ]
