"""The audit log's cost per write: a Workspace update (one ``save()``) and a create, with the
audit signals connected vs. disconnected, timed side by side in interleaved rounds (median).

Usage: DATABASE_URL=sqlite:////tmp/audit-bench.sqlite3 python bench/audit_cost.py [--quick]
(migrates that database first; any DATABASE_URL works). Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter.settings")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from tenancy.wall import enter_platform  # noqa: E402

# A script, not a request: the database wall's explicit platform mode (requests it serves
# in-process set their own tenant's).
enter_platform("bench script")

from django.core.management import call_command  # noqa: E402
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save  # noqa: E402

from accounts.models import Account  # noqa: E402
from accounts.provisioning import add_member  # noqa: E402
from audit import signals as audit_signals  # noqa: E402
from bench.common import median  # noqa: E402
from workspaces.models import Workspace  # noqa: E402

QUICK = "--quick" in sys.argv
ROUNDS = 5 if QUICK else 9
N = 100 if QUICK else 300


def set_audit(on: bool) -> None:
    uid = "audit:workspaces.workspace"
    handlers = [(pre_save, audit_signals._on_pre_save), (post_save, audit_signals._on_post_save),
                (pre_delete, audit_signals._on_pre_delete), (post_delete, audit_signals._on_post_delete)]
    for signal, handler in handlers:
        if on:
            signal.connect(handler, sender=Workspace, dispatch_uid=uid)
        else:
            signal.disconnect(sender=Workspace, dispatch_uid=uid)


def time_updates(ws: Workspace) -> float:
    t0 = time.perf_counter_ns()
    for i in range(N):
        ws.description = f"d{i}-{t0}"
        ws.save()
    return (time.perf_counter_ns() - t0) / N / 1000


def time_creates(profile, tag: str) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter_ns()
    for i in range(N):
        Workspace.objects.create(user_profile=profile, name=f"{tag}-{i}")
    return (time.perf_counter_ns() - t0) / N / 1000


def main() -> None:
    call_command("migrate", verbosity=0)
    account = Account.objects.create(company_name="Bench")
    profile, _ = add_member(account, f"bench-{account.account_number}", admin=True)
    ws = Workspace.objects.create(user_profile=profile, name="bench")
    results: dict[str, list[float]] = {k: [] for k in ("update_on", "update_off", "create_on", "create_off")}
    for r in range(ROUNDS):
        for on in (True, False) if r % 2 == 0 else (False, True):
            set_audit(on)
            tag = "on" if on else "off"
            results[f"update_{tag}"].append(time_updates(ws))
            results[f"create_{tag}"].append(time_creates(profile, f"r{r}{tag}"))
            Workspace.objects.filter(account=account).exclude(pk=ws.pk).delete()
    set_audit(True)
    out = {k: round(median(v), 1) for k, v in results.items()}
    out["update_ratio"] = round(out["update_on"] / out["update_off"], 2)
    out["create_ratio"] = round(out["create_on"] / out["create_off"], 2)
    out["unit"] = "microseconds per save, median of rounds"
    out["database"] = django.db.connection.vendor
    print(json.dumps(out))


if __name__ == "__main__":
    main()
