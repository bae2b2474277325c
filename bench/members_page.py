"""The console's members page at scale (issue 24): the first page and a search of an account
with 100,000 members, side by side with the same requests on an account of 1,000 (interleaved
rounds), in process (DEBUG off, one process, PostgreSQL as the role row-level security binds).
Reports p50/p90 per request, the ratio 100k / 1k, and the statements each request sends
(the page must send the same number whatever the account's size).

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/members_bench python bench/members_page.py [--quick]
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

from tenancy.wall import enter_platform  # noqa: E402

# A script, not a request: the database wall's explicit platform mode (requests it serves
# in-process set their own tenant's).
enter_platform("bench script")

from allauth.mfa.models import Authenticator  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import Account, UserProfile  # noqa: E402
from accounts.provisioning import add_member, ensure_default_account  # noqa: E402
from bench.common import median, pct  # noqa: E402
from bench.wall_cost import fresh_database, statements  # noqa: E402
from tenancy.hosts import tenant_host  # noqa: E402

QUICK = "--quick" in sys.argv
ROUNDS = 5 if QUICK else 11
N = 10 if QUICK else 20
SIZES = {"large": 100_000, "small": 1_000}
BATCH = 5_000
FIRST_NAMES = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances"]
LAST_NAMES = ["Lovelace", "Hopper", "Torvalds", "Liskov", "Thompson", "Hamilton", "Ritchie", "Allen"]


def seed_account(tag: str, members: int) -> Client:
    """An account of ``members`` members (names, emails, every tenth with TOTP, most signed in
    once) and a client signed in as its admin."""
    account = Account.objects.create(company_name=f"Bench {tag}")
    admin, _ = add_member(account, f"{tag}-admin", admin=True, email=f"admin@{tag}.test")
    user_model = get_user_model()
    now = timezone.now()
    for start in range(0, members - 1, BATCH):
        users = user_model.objects.bulk_create(
            user_model(username=f"{tag}{i:06d}", email=f"{tag}{i}@{tag}.example",
                       first_name=FIRST_NAMES[i % 8], last_name=f"{LAST_NAMES[i // 8 % 8]}{i}",
                       last_login=now if i % 3 else None)
            for i in range(start, min(start + BATCH, members - 1)))
        UserProfile.objects.bulk_create(UserProfile(user=u, account=account) for u in users)
        Authenticator.objects.bulk_create(
            Authenticator(user=u, type=Authenticator.Type.TOTP, data={}) for u in users[::10])
    client = Client(HTTP_HOST=tenant_host(account.account_number))
    client.force_login(admin.user)
    return client


def timed(client: Client, path: str) -> list[float]:
    times = []
    for _ in range(N):
        t0 = time.perf_counter_ns()
        response = client.get(path)
        times.append((time.perf_counter_ns() - t0) / 1e6)
        if response.status_code != 200:
            sys.exit(f"{path}: {response.status_code}")
    return times


def main() -> None:
    fresh_database()
    call_command("collectstatic", "--noinput", "-v0")  # DEBUG off: the manifest's names
    call_command("migrate", "--noinput", "-v0")
    ensure_default_account()
    t0 = time.monotonic()
    clients = {name: seed_account(name, size) for name, size in SIZES.items()}
    with connection.cursor() as cursor:  # what autovacuum does after bulk writes: statistics, and
        cursor.execute("VACUUM ANALYZE")  # the trigram indexes' pending lists merged
    seeded = time.monotonic() - t0
    pages = {
        "members page (first)": "/console/members/",
        "search, one person (by email)": "/console/members/?q={tag}777%40",
        "search, a surname (~1/8 of members)": "/console/members/?q=Hopper",
        "search, first and last name": "/console/members/?q=grace+lovelace",
    }
    results: dict[str, dict[str, list[float]]] = {p: {n: [] for n in SIZES} for p in pages}
    for name, client in clients.items():  # warm
        for path in pages.values():
            timed(client, path.format(tag=name))
    for r in range(ROUNDS):
        for name in (list(SIZES) if r % 2 == 0 else list(SIZES)[::-1]):
            for page, path in pages.items():
                results[page][name] += timed(clients[name], path.format(tag=name))
    report: dict[str, object] = {"rounds": ROUNDS, "requests_per_round": N, "sizes": SIZES,
                                 "seed_seconds": round(seeded, 1), "pages": {}}
    for page, path in pages.items():
        row: dict[str, object] = {}
        for name in SIZES:
            row[f"{name}_p50_ms"] = round(median(results[page][name]), 2)
            row[f"{name}_p90_ms"] = round(pct(results[page][name], 90), 2)
            row[f"{name}_statements"] = statements(clients[name], path.format(tag=name))
        row["ratio_p50_large_to_small"] = round(median(results[page]["large"])
                                                / median(results[page]["small"]), 3)
        report["pages"][page] = row  # type: ignore[index]
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
