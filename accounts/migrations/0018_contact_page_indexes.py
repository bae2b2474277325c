"""Indexes of what grows with a big customer: the console's contacts page in its order
(``console.views.contacts``: the primary first, then by address, for one account), and the
verified addresses by lower-cased address (``lifecycle.importer``: an import looks up a chunk
of members' addresses in one query).

No trigram index for the contacts search: the contacts table is behind the database wall
(forced row-level security), and PostgreSQL uses an index for a condition on such a table
only when its operator is leakproof, which ``~*`` is not. The search reads the account's
contacts in page order through the index below and filters them.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0017_sentmail"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="accountcontact",
            index=models.Index(fields=["account", "-is_primary", "email"], name="accounts_contact_page"),
        ),
        migrations.RunSQL(
            'CREATE INDEX IF NOT EXISTS "account_emailaddress_verified_lower" '
            'ON "account_emailaddress" (LOWER("email")) WHERE "verified"',
            'DROP INDEX IF EXISTS "account_emailaddress_verified_lower"'),
    ]
