"""Record the hosts of the accounts and verified domains that existed before router domains.

They are recorded as ``manual`` (nobody provisioned them yet); with a provider configured the
next ``check_domains`` queues and adds each of them.
"""

from django.db import migrations


def record(apps, schema_editor):  # type: ignore[no-untyped-def]
    from tenancy.hosts import tenant_host

    Account = apps.get_model("accounts", "Account")
    Domain = apps.get_model("domains", "Domain")
    RouterDomain = apps.get_model("routerdomains", "RouterDomain")
    rows = [RouterDomain(account_id=pk, hostname=f"*.{tenant_host(number)}".lower(), kind="workspaces",
                         state="manual", provider="none")
            for pk, number in Account.objects.values_list("pk", "account_number").iterator()]
    rows += [RouterDomain(account_id=account_id, hostname=hostname, kind="custom", state="manual",
                          provider="none")
             for account_id, hostname in Domain.objects.filter(status="verified")
             .values_list("account_id", "hostname").iterator()]
    RouterDomain.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("routerdomains", "0001_initial"),
        ("accounts", "0006_account_closed_at"),
        ("domains", "0002_hostname_claim"),
    ]

    operations = [migrations.RunPython(record, migrations.RunPython.noop)]
