"""Item 3: ns per call of account_number_from_url and get_cached_* (L1 hit, L2 hit, miss),
and database queries per warm request. Run with DJANGO_SETTINGS_MODULE=bench.settings_tenancy.

Every variant is timed in interleaved rounds; the figure is the median over rounds.
Prints one JSON object.
"""

from __future__ import annotations

import json
import sys
import time

import django

django.setup()

from tenancy.wall import enter_platform  # noqa: E402

# A script, not a request: the database wall's explicit platform mode (requests it serves
# in-process set their own tenant's).
enter_platform("bench script")

from django.core.cache import cache as django_cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts import utils  # noqa: E402
from accounts.models import Account, UserProfile  # noqa: E402
from bench.common import account_number, median, tenant_host, wait_for_push  # noqa: E402
from tenancy.cache import tenant_cache  # noqa: E402

QUICK = "--quick" in sys.argv
ROUNDS = 5 if QUICK else 9
N_L1 = 2_000 if QUICK else 5_000
N_L2 = 500 if QUICK else 2_000
N_MISS = 100 if QUICK else 400


def per_call_ns(fn, n: int, before=None) -> float:
    """ns per call of fn(); ``before`` (untimed overhead subtracted) runs before each call."""
    if before is None:
        t0 = time.perf_counter_ns()
        for _ in range(n):
            fn()
        return (time.perf_counter_ns() - t0) / n
    t0 = time.perf_counter_ns()
    for _ in range(n):
        before()
        fn()
    total = time.perf_counter_ns() - t0
    t0 = time.perf_counter_ns()
    for _ in range(n):
        before()
    return (total - (time.perf_counter_ns() - t0)) / n


def main() -> None:
    push = wait_for_push()  # level-1 hits are measured as a long-running worker sees them
    number = account_number(1)
    account = Account.objects.get(account_number=number)
    profile = UserProfile.objects.select_related("user").get(account=account)
    user = profile.user
    url = f"https://team.{tenant_host(1)}/some/path?account=1111-2222-3333"
    lookups = {
        "account_number_from_url": (lambda: utils.account_number_from_url(url), None),
        "get_cached_account_by_number": (
            lambda: utils.get_cached_account_by_number(number),
            lambda: utils.get_cached_account_by_number(number, invalidate=True),
        ),
        "get_cached_account": (
            lambda: utils.get_cached_account(account.pk),
            lambda: utils.get_cached_account(account.pk, invalidate=True),
        ),
        "get_cached_default_account": (
            lambda: utils.get_cached_default_account(),
            lambda: utils.get_cached_default_account(invalidate=True),
        ),
        "get_cached_user_for_user_id": (
            lambda: utils.get_cached_user_for_user_id(user.pk),
            lambda: utils.get_cached_user_for_user_id(user.pk, invalidate=True),
        ),
        "get_cached_profile": (
            lambda: utils.get_cached_profile(user.pk, account.pk),
            lambda: utils.get_cached_profile(user.pk, account.pk, invalidate=True),
        ),
    }
    # reference points measured side by side: one Redis GET, one DB round trip
    redis_key = "bench:ref"
    django_cache.set(redis_key, "x", 600)
    refs = {
        "redis_get": lambda: django_cache.get(redis_key),
        "db_select_account": lambda: Account.objects.filter(pk=account.pk).first(),
    }
    samples: dict[str, list[float]] = {}
    for _ in range(ROUNDS):
        for name, fn in refs.items():
            samples.setdefault(f"ref:{name}", []).append(per_call_ns(fn, N_L2))
        for name, (hit, miss) in lookups.items():
            hit()
            samples.setdefault(f"{name}:l1_hit", []).append(per_call_ns(hit, N_L1))
            if miss is None:
                continue
            samples.setdefault(f"{name}:l2_hit", []).append(
                per_call_ns(hit, N_L2, before=tenant_cache.clear_local)
            )
            samples.setdefault(f"{name}:miss", []).append(per_call_ns(miss, N_MISS))
    ns = {k: round(median(v)) for k, v in samples.items()}

    # queries per warm request (anonymous and signed-in member), tenant host
    host = tenant_host(1)
    results_q = {}
    for label, login in (("anonymous", False), ("member", True)):
        client = Client(HTTP_HOST=host)
        if login:
            client.force_login(user)
        for _ in range(3):
            assert client.get("/").status_code == 200
        with CaptureQueriesContext(connection) as ctx:
            resp = client.get("/")
        assert resp.status_code == 200
        results_q[label] = {
            "total": len(ctx.captured_queries),
            "tenant_resolution": sum(
                1 for q in ctx.captured_queries
                if "accounts_account" in q["sql"] and "django_session" not in q["sql"]
            ),
            "sql": [q["sql"][:160] for q in ctx.captured_queries],
        }
    # tenant resolution alone, warm: the middleware's lookups
    with CaptureQueriesContext(connection) as ctx:
        for _ in range(100):
            utils.get_cached_account_by_number(number)
            utils.get_cached_default_account()
            utils.get_cached_profile(user.pk, account.pk)
    results_q["resolution_x100"] = len(ctx.captured_queries)
    print(json.dumps({"ns_per_call": ns, "queries": results_q, "rounds": ROUNDS, "push": push}))


if __name__ == "__main__":
    main()
