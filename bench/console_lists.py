"""The console's contacts and workspaces pages at scale: the first page, a deep page and a
search of an account with 100,000 contacts and 100,000 workspaces, side by side with the same
requests on an account of 1,000 of each (interleaved rounds), in process (DEBUG off,
PostgreSQL as the role row-level security binds). Reports p50/p90 per request, the ratio
100k / 1k, the statements each request sends and the size of the page.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/lists_bench python bench/console_lists.py [--quick]
The database named there is dropped and created again (``bench.wall_cost.fresh_database``).
Prints JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Account, AccountContact  # noqa: E402
from accounts.provisioning import add_member, ensure_default_account  # noqa: E402
from bench.common import median, pct  # noqa: E402
from bench.members_page import ROUNDS, timed  # noqa: E402 - also enters the wall's platform mode
from bench.wall_cost import fresh_database, statements  # noqa: E402
from tenancy.hosts import tenant_host  # noqa: E402
from workspaces.models import Workspace  # noqa: E402

SIZES = {"large": 100_000, "small": 1_000}
BATCH = 5_000


def seed_account(tag: str, rows: int) -> Client:
    """An account of ``rows`` contacts and ``rows`` workspaces and a client signed in as its
    admin."""
    account = Account.objects.create(company_name=f"Bench {tag}")
    admin, _ = add_member(account, f"{tag}-admin", admin=True, email=f"admin@{tag}.test")
    for start in range(0, rows, BATCH):
        numbers = range(start, min(start + BATCH, rows))
        AccountContact.objects.bulk_create(
            AccountContact(account=account, email=f"c{i:06d}@{tag}.example", first_name="Grace",
                           last_name=f"Hopper{i}") for i in numbers)
        Workspace.objects.bulk_create(
            Workspace(account=account, user_profile=admin, name=f"team-{i:06d}") for i in numbers)
    client = Client(HTTP_HOST=tenant_host(account.account_number))
    client.force_login(admin.user)
    return client


def load() -> list[str]:
    with open("/proc/loadavg") as f:
        return f.read().split()[:3]


def main() -> None:
    fresh_database()
    call_command("collectstatic", "--noinput", "-v0")  # DEBUG off: the manifest's names
    call_command("migrate", "--noinput", "-v0")
    ensure_default_account()
    t0 = time.monotonic()
    clients = {name: seed_account(name, size) for name, size in SIZES.items()}
    with connection.cursor() as cursor:  # what autovacuum does after bulk writes
        cursor.execute("VACUUM ANALYZE")
    seeded = time.monotonic() - t0
    pages = {
        "contacts (first page)": "/console/contacts/",
        "contacts (page 10)": "/console/contacts/?page=10",
        "contacts, search one address": "/console/contacts/?q=c000777%40",
        "workspaces (first page)": "/console/workspaces/",
        "workspaces (page 10)": "/console/workspaces/?page=10",
        "workspaces, search one name": "/console/workspaces/?q=team-000777",
    }
    results: dict[str, dict[str, list[float]]] = {p: {n: [] for n in SIZES} for p in pages}
    for client in clients.values():  # warm
        for path in pages.values():
            timed(client, path)
    load_before = load()
    for r in range(ROUNDS):
        for name in (list(SIZES) if r % 2 == 0 else list(SIZES)[::-1]):
            for page, path in pages.items():
                results[page][name] += timed(clients[name], path)
    report: dict[str, object] = {"rounds": ROUNDS, "sizes": SIZES, "seed_seconds": round(seeded, 1),
                                 "load_before": load_before,
                                 "load_after": load(), "pages": {}}
    for page, path in pages.items():
        row: dict[str, object] = {}
        for name in SIZES:
            row[f"{name}_p50_ms"] = round(median(results[page][name]), 2)
            row[f"{name}_p90_ms"] = round(pct(results[page][name], 90), 2)
            row[f"{name}_statements"] = statements(clients[name], path)
            row[f"{name}_kib"] = round(len(clients[name].get(path).content) / 1024, 1)
        row["ratio_p50_large_to_small"] = round(median(results[page]["large"])
                                                / median(results[page]["small"]), 3)
        report["pages"][page] = row  # type: ignore[index]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
