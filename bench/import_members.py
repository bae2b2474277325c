"""Import of a big customer's export (``import_account --new``): time and peak memory at 1k,
10k and 100k members, on PostgreSQL as the role row-level security binds.

Seeds one account per size (every member a user with a name and an address; every other
address verified, so half the members are matched to their existing user by verified email
and half are created anew, their usernames taken here and suffixed: a clone on the same
deployment), exports each once, then imports each export in a fresh subprocess
(``--import-only``, platform mode as the management command): once timed, with the process's
resident peak (VmHWM) before and after, and, for sizes up to ``--heap-max`` members, once
more under tracemalloc (its peak is the Python heap the import allocated). Also reports the
load average before and after each import: the machine may be shared.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/import_bench python bench/import_members.py
       [--sizes 1000,10000,100000] [--heap-max 100000]
The database named there is dropped and created again (``bench.wall_cost.fresh_database``).
Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter.settings")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

import django  # noqa: E402

django.setup()

from tenancy.wall import enter_platform  # noqa: E402

# A script, like the management command: the database wall's explicit platform mode.
enter_platform("bench script")

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench.import_account import _rss_mib  # noqa: E402

BATCH = 5_000


def seed(members: int) -> int:
    """An account of ``members`` members (half with a verified address); returns its id."""
    from allauth.account.models import EmailAddress

    from accounts.models import Account, UserProfile

    account = Account.objects.create(company_name=f"Import bench {members}")
    user_model = get_user_model()
    tag = f"m{members}-"
    for start in range(0, members, BATCH):
        users = user_model.objects.bulk_create(
            user_model(username=f"{tag}{i:06d}", email=f"{tag}{i}@import.example",
                       first_name="Ada", last_name=f"Lovelace{i}")
            for i in range(start, min(start + BATCH, members)))
        EmailAddress.objects.bulk_create(
            EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users[::2])
        UserProfile.objects.bulk_create(
            UserProfile(user=u, account=account, role="admin" if u is users[0] else "member")
            for u in users)
    return account.pk


def load() -> str:
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def import_only(path: str, heap: bool) -> dict[str, object]:
    """Run in a fresh process: import ``path`` (timed; then, if ``heap``, under tracemalloc)."""
    import tracemalloc

    from lifecycle.importer import import_account

    connection.ensure_connection()
    base = _rss_mib()
    load_before = load()
    started = time.perf_counter()
    with open(path, "rb") as source:
        report = import_account(source)
    seconds = time.perf_counter() - started
    result: dict[str, object] = {
        "seconds": round(seconds, 2), "rows": sum(report.created.values()),
        "rows_per_second": round(sum(report.created.values()) / seconds),
        "users_matched": len(report.users_matched), "users_created": len(report.users_created),
        "rss_before_mib": round(base, 1), "peak_rss_mib": round(_rss_mib(), 1),
        "load_before": load_before, "load_after": load()}
    if heap:
        tracemalloc.start()
        with open(path, "rb") as source:
            import_account(source)
        result["tracemalloc_peak_mib"] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.stop()
    return result


def main() -> None:
    from accounts.models import Account
    from accounts.provisioning import ensure_default_account
    from bench.wall_cost import fresh_database
    from lifecycle.export import write_export

    sizes = [1_000, 10_000, 100_000]
    if "--sizes" in sys.argv:
        sizes = [int(s) for s in sys.argv[sys.argv.index("--sizes") + 1].split(",")]
    heap_max = int(sys.argv[sys.argv.index("--heap-max") + 1]) if "--heap-max" in sys.argv else 100_000
    fresh_database()
    call_command("migrate", "--noinput", "-v0")
    ensure_default_account()
    db = settings.DATABASES["default"]
    env = {**os.environ, "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:"
                                           f"{db['PORT'] or 5432}/{db['NAME']}"}
    results: dict[str, object] = {"vendor": connection.vendor, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        accounts = {n: seed(n) for n in sizes}
        with connection.cursor() as cursor:  # what autovacuum would do after the bulk writes
            cursor.execute("VACUUM ANALYZE")
        for n in sizes:
            path = os.path.join(tmp, f"{n}.zip")
            started = time.perf_counter()
            with open(path, "wb") as out:
                write_export(Account.objects.get(pk=accounts[n]), out)
            export_seconds = time.perf_counter() - started
            args = [sys.executable, __file__, "--import-only", path]
            if n <= heap_max:
                args.append("--heap")
            done = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
            if done.returncode:
                sys.exit(f"import of {n} members failed:\n{done.stderr[-3000:]}")
            results["sizes"][n] = {  # type: ignore[index]
                "export_seconds": round(export_seconds, 2),
                "zip_mib": round(os.path.getsize(path) / 2**20, 1),
                **json.loads(done.stdout.strip().splitlines()[-1])}
            print(json.dumps({n: results["sizes"][n]}), file=sys.stderr, flush=True)  # type: ignore[index]
    print(json.dumps(results))


if __name__ == "__main__":
    if "--import-only" in sys.argv:
        print(json.dumps(import_only(sys.argv[sys.argv.index("--import-only") + 1], "--heap" in sys.argv)))
    else:
        main()
