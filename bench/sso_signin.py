"""The sign-in page of an account with SSO (two identity providers: buttons, the form-action
widened) vs. one without: time per warm GET /login/ side by side in interleaved rounds
(median), and the queries each costs (0 for both: the providers come from the tenant cache).

Usage: DATABASE_URL=sqlite:////tmp/sso-bench.sqlite3 python bench/sso_signin.py [--quick]
(migrates that database first; any DATABASE_URL/REDIS_URL works). Prints one JSON object.
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

enter_platform("bench script")  # the requests it serves in-process set their own tenant's mode

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from accounts.models import Account  # noqa: E402
from bench.common import median  # noqa: E402
from identity.sso.models import IdentityProvider  # noqa: E402
from tenancy.hosts import tenant_host  # noqa: E402

QUICK = "--quick" in sys.argv
ROUNDS = 5 if QUICK else 9
N = 100 if QUICK else 300


def time_gets(client: Client) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(N):
        client.get("/login/")
    return (time.perf_counter_ns() - t0) / N / 1000


def main() -> None:
    call_command("migrate", verbosity=0)
    with_sso = Account.objects.create(company_name="Bench SSO")
    without = Account.objects.create(company_name="Bench plain")
    IdentityProvider.objects.create(account=with_sso, kind="oidc", name="Okta",
                                    issuer="https://bench.okta.test", client_id="c")
    IdentityProvider.objects.create(account=with_sso, kind="saml", name="Entra",
                                    idp_entity_id="https://sts.test/x", idp_sso_url="https://login.test/saml",
                                    idp_x509cert="x")
    clients = {"sso": Client(HTTP_HOST=tenant_host(with_sso.account_number)),
               "plain": Client(HTTP_HOST=tenant_host(without.account_number))}
    queries = {}
    for name, client in clients.items():
        assert client.get("/login/").status_code == 200  # warm
        with CaptureQueriesContext(connection) as captured:
            client.get("/login/")
        queries[name] = len(captured)
    results: dict[str, list[float]] = {"sso": [], "plain": []}
    for r in range(ROUNDS):
        for name in ("sso", "plain") if r % 2 == 0 else ("plain", "sso"):
            results[name].append(time_gets(clients[name]))
    out: dict[str, object] = {f"{k}_us": round(median(v), 1) for k, v in results.items()}
    out["ratio"] = round(median(results["sso"]) / median(results["plain"]), 3)
    out["queries_warm"] = queries
    out["unit"] = "microseconds per warm GET /login/, median of rounds"
    out["database"] = connection.vendor
    print(json.dumps(out))


if __name__ == "__main__":
    main()
