"""Create the public tenant and N tenants (schemas) with one domain each; idempotent."""

import os
import sys

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tproject.settings")
django.setup()

from customers.models import Client, Domain  # noqa: E402

count = int(sys.argv[1]) if len(sys.argv) > 1 else 1
if not Client.objects.filter(schema_name="public").exists():
    public = Client(schema_name="public", name="public")
    public.save()
    Domain.objects.create(domain="localhost", tenant=public, is_primary=True)
for i in range(count):
    schema = f"t{i:05d}"
    if Client.objects.filter(schema_name=schema).exists():
        continue
    tenant = Client(schema_name=schema, name=schema)
    tenant.save()
    Domain.objects.create(domain=f"{schema}.localhost", tenant=tenant, is_primary=True)
print(Client.objects.count() - 1, "tenants")
