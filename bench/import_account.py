"""Import of one account's export: time and peak memory at two sizes side by side.

Seeds an account with N rows (70 % audit events, 20 % workspaces, a tenth of them tagged,
10 % contacts, two members), exports it once per size, then imports each export in a fresh
subprocess (``--import-only``): once timed (with the process's peak RSS before and after),
once under tracemalloc (its peak is the Python heap the import allocated).

Usage: DATABASE_URL=sqlite:////tmp/import-bench.sqlite3 python bench/import_account.py
       [--sizes 10000,100000]
(migrates that database first; any DATABASE_URL works). Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter.settings")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402

settings.DEBUG = False  # DEBUG keeps every query's SQL (9000 of them): not the import's memory

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402


def _rss_mib() -> float:
    """This process's peak resident set (VmHWM: reset by exec, unlike ru_maxrss, which a child
    inherits from the parent it was forked from)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def seed(n: int) -> int:
    """An account with ``n`` rows in its tenant tables; returns its id."""
    from accounts.models import Account, AccountContact
    from accounts.provisioning import add_member
    from audit.models import AuditEvent
    from workspaces.models import Workspace

    account = Account.objects.create(company_name=f"Bench {n}")
    admin, _ = add_member(account, f"bench-admin-{account.pk}", email=f"admin{account.pk}@bench.test",
                          admin=True)
    spaces = n * 20 // 100
    contacts = n * 10 // 100
    events = n - spaces - contacts
    Workspace.objects.bulk_create(
        [Workspace(user_profile=admin, account=account, name=f"ws-{i}", annotations={"i": i})
         for i in range(spaces)], batch_size=1000)
    for ws in Workspace.objects.filter(account=account).order_by("pk")[: spaces // 10]:
        ws.tags.add("bench")
    AccountContact.objects.bulk_create(
        [AccountContact(account=account, email=f"c{i}@bench.test") for i in range(contacts)],
        batch_size=1000)
    AuditEvent.objects.bulk_create(
        [AuditEvent(account=account, source="system", action="workspaces.workspace.updated",
                    target_kind="workspaces.workspace", target_id=str(i),
                    changes={"description": ["old", f"new {i}"]}) for i in range(events)],
        batch_size=1000)
    return account.pk


def import_only(path: str) -> dict[str, float]:
    """Run in a fresh process: import ``path`` twice (timed; then under tracemalloc)."""
    import tracemalloc

    from lifecycle.importer import import_account

    connection.ensure_connection()
    base = _rss_mib()
    started = time.perf_counter()
    with open(path, "rb") as source:
        report = import_account(source)
    seconds = time.perf_counter() - started
    peak = _rss_mib()
    tracemalloc.start()
    with open(path, "rb") as source:
        import_account(source)
    _, heap = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": round(seconds, 2), "rows": sum(report.created.values()),
            "rows_per_second": round(sum(report.created.values()) / seconds),
            "rss_before_mib": round(base, 1), "peak_rss_mib": round(peak, 1),
            "tracemalloc_peak_mib": round(heap / 2**20, 1)}


def main() -> None:
    from accounts.models import Account
    from lifecycle.export import write_export

    sizes = [10_000, 100_000]
    if "--sizes" in sys.argv:
        sizes = [int(s) for s in sys.argv[sys.argv.index("--sizes") + 1].split(",")]
    call_command("migrate", verbosity=0)
    results = {"vendor": connection.vendor, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            account = Account.objects.get(pk=seed(n))
            path = os.path.join(tmp, f"{n}.zip")
            started = time.perf_counter()
            with open(path, "wb") as out:
                write_export(account, out)
            export_seconds = time.perf_counter() - started
            done = subprocess.run([sys.executable, __file__, "--import-only", path], cwd=ROOT,
                                  capture_output=True, text=True, check=True)
            results["sizes"][n] = {"export_seconds": round(export_seconds, 2),
                                   "zip_mib": round(os.path.getsize(path) / 2**20, 1),
                                   **json.loads(done.stdout.strip().splitlines()[-1])}
    print(json.dumps(results))


if __name__ == "__main__":
    if "--import-only" in sys.argv:
        print(json.dumps(import_only(sys.argv[sys.argv.index("--import-only") + 1])))
    else:
        main()
