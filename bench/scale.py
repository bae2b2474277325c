"""Item 4: Workspace.objects.with_read_permission_for(member) first page at growing row counts.

Run with DJANGO_SETTINGS_MODULE=bench.settings_tenancy after bench/seed.sql.
Usage: python bench/scale.py ACCOUNTS SCALE[,SCALE...] [--quick]. Prints one JSON object.
Rows are bulk-inserted with generate_series (account_id = the owner profile's account).
"""

from __future__ import annotations

import json
import random
import sys
import time

import django

django.setup()

from tenancy.wall import enter_platform  # noqa: E402

# A script, not a request: the database wall's explicit platform mode (requests it serves
# in-process set their own tenant's).
enter_platform("bench script")

from django.db import connection  # noqa: E402

from accounts.models import UserProfile  # noqa: E402
from accounts.utils import get_cached_smarter_admin_user_profile  # noqa: E402
from bench.common import account_number, median, pct  # noqa: E402
from workspaces.models import Workspace  # noqa: E402

GROW_SQL = """
INSERT INTO workspaces_workspace (created_at, updated_at, description, version, annotations,
    name, is_public, account_id, user_profile_id)
SELECT now() - random() * interval '365 days', now(), '', '1.0.0', '{}', 'w' || k, false,
       p.account_id, p.id
FROM accounts_userprofile p
JOIN accounts_account a ON a.id = p.account_id
CROSS JOIN generate_series(%s, %s) AS k
WHERE a.company_name LIKE 'Bench %%' AND a.is_default_account = false AND a.id <= %s
"""


def grow(per_account: int, max_account_id: int) -> float:
    current = Workspace.objects.filter(account_id=max_account_id).count()
    t0 = time.perf_counter()
    if per_account > current:
        with connection.cursor() as cur:
            cur.execute("SET synchronous_commit = off")
            cur.execute(GROW_SQL, [current, per_account - 1, max_account_id])
            cur.execute("ANALYZE workspaces_workspace")
    return time.perf_counter() - t0


def main() -> None:
    accounts = int(sys.argv[1])
    scales = [int(s) for s in sys.argv[2].split(",")]
    quick = "--quick" in sys.argv
    samples_per_user = 20 if quick else 40
    rng = random.Random(5)
    numbers = [account_number(i) for i in range(accounts)]
    members = list(
        UserProfile.objects.filter(account__account_number__in=numbers)
        .select_related("user", "account").order_by("account_id")
    )
    max_account_id = members[-1].account_id
    platform = get_cached_smarter_admin_user_profile()
    if platform is not None and not Workspace.objects.filter(account_id=platform.account_id).exists():
        Workspace.objects.bulk_create(
            [Workspace(name=f"p{i}", user_profile=platform, account_id=platform.account_id)
             for i in range(50)]
        )
    probes = rng.sample(members, min(20, len(members)))
    out = []
    for scale in scales:
        per_account = max(1, scale // len(members))
        load_s = grow(per_account, max_account_id)
        rows = Workspace.objects.count()
        scoped_ms: list[float] = []
        plain_ms: list[float] = []
        for profile in probes:
            user = profile.user

            def scoped(user=user):
                return list(Workspace.objects.with_read_permission_for(user).order_by("-created_at")[:50])

            def plain(aid=profile.account_id):
                return list(Workspace.objects.filter(account_id=aid).order_by("-created_at")[:50])

            scoped()
            plain()
            for _ in range(samples_per_user):  # interleaved A/B
                t0 = time.perf_counter()
                page = scoped()
                scoped_ms.append((time.perf_counter() - t0) * 1e3)
                t0 = time.perf_counter()
                plain()
                plain_ms.append((time.perf_counter() - t0) * 1e3)
            assert all(w.account_id in (profile.account_id, getattr(platform, "account_id", None))
                       for w in page)
        user = probes[0].user
        plan = Workspace.objects.with_read_permission_for(user).order_by("-created_at")[:50].explain(
            analyze=True
        )
        out.append({
            "target_rows": scale,
            "rows": rows,
            "rows_per_account": per_account,
            "load_seconds": round(load_s, 1),
            "scoped_p50_ms": round(median(scoped_ms), 3),
            "scoped_p99_ms": round(pct(scoped_ms, 99), 3),
            "plain_p50_ms": round(median(plain_ms), 3),
            "plain_p99_ms": round(pct(plain_ms, 99), 3),
            "samples": len(scoped_ms),
            "explain": plan,
            "index_scan_on_account_id": "workspac_workspace_a" in plan
            or "workspaces_unique_name_per_account" in plan,
        })
        print(f"scale {scale}: {out[-1]['scoped_p50_ms']} ms p50", file=sys.stderr)
    print(json.dumps({"accounts": len(members), "scales": out}))


if __name__ == "__main__":
    main()
