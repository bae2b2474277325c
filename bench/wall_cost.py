"""The database wall's cost per request (issue 23): the console's members page of a tenant with
1,000 members and the API's workspace list, with the wall (row-level security + the settings
each statement carries) and without it (policies disabled, no settings sent), side by side in
interleaved rounds (median per request). Also counts the statements a warm request that runs
no query sends (the wall must add none).

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/wall_bench python bench/wall_cost.py [--quick]
The database named there is dropped and created again, owned by a role row-level security
binds (``tests.services.WALL_ROLE``: a superuser would bypass every policy). Prints JSON.
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
os.environ.setdefault("API_RATE_LIMIT", "1000000/minute")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from tenancy.wall import enter_platform  # noqa: E402

# A script, not a request: the database wall's explicit platform mode (requests it serves
# in-process set their own tenant's).
enter_platform("bench script")

import psycopg  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Account, ApiKey, UserProfile  # noqa: E402
from accounts.provisioning import add_member, ensure_default_account  # noqa: E402
from bench.common import median  # noqa: E402
from tenancy import wall  # noqa: E402
from tenancy.hosts import tenant_host  # noqa: E402
from tenancy.wall_policy import tenant_tables  # noqa: E402
from tests.services import WALL_ROLE, use_unprivileged_role  # noqa: E402
from workspaces.models import Workspace  # noqa: E402

QUICK = "--quick" in sys.argv
ROUNDS = 5 if QUICK else 11
N = 10 if QUICK else 30
MEMBERS = 1000


def fresh_database() -> None:
    """Drop and create the bench database owned by the wall role; connect as that role."""
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        sys.exit("bench/wall_cost.py needs a postgres:// DATABASE_URL")
    admin = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432,
             "user": db["USER"] or "postgres", "dbname": "postgres"}
    use_unprivileged_role(db, WALL_ROLE)
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db["NAME"]}"')
        conn.execute(f'CREATE DATABASE "{db["NAME"]}" OWNER "{db["USER"]}"')


def seed() -> tuple[Account, UserProfile, str]:
    call_command("collectstatic", "--noinput", "-v0")  # DEBUG off: the manifest's names
    call_command("migrate", "--noinput", "-v0")
    ensure_default_account()
    add_member(Account.objects.get(is_default_account=True), "root", superuser=True)
    other = Account.objects.create(company_name="Other Corp")
    account = Account.objects.create(company_name="Bench Corp")
    admin, _ = add_member(account, "bench-admin", admin=True, email="admin@bench.test")
    user_model = get_user_model()
    for target, tag in ((account, "m"), (other, "o")):
        users = user_model.objects.bulk_create(
            user_model(username=f"{tag}{i:04d}", email=f"{tag}{i}@bench.test") for i in range(MEMBERS))
        profiles = UserProfile.objects.bulk_create(UserProfile(user=u, account=target) for u in users)
        Workspace.objects.bulk_create(
            Workspace(user_profile=p, account=target, name=f"{tag}ws{i:04d}")
            for i, p in enumerate(profiles))
    _, key = ApiKey.create(admin, name="bench")
    return account, admin, key


def set_wall(on: bool) -> None:
    """Policies enforced and settings sent, or neither (what the project did before)."""
    with connection.cursor() as cursor:
        for model in tenant_tables():
            table = model._meta.db_table
            verb = "ENABLE" if on else "DISABLE"
            cursor.execute(f"ALTER TABLE {table} {verb} ROW LEVEL SECURITY")
    if on:
        wall.install(connection)
    elif wall.execute_wrapper in connection.execute_wrappers:
        connection.execute_wrappers.remove(wall.execute_wrapper)


def timed(client: Client, path: str, **headers: str) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(N):
        response = client.get(path, **headers)
        if response.status_code != 200:
            sys.exit(f"{path}: {response.status_code}")
    return (time.perf_counter_ns() - t0) / N / 1e6


def statements(client: Client, path: str) -> int:
    sent: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(path)
    return len(sent)


def main() -> None:
    fresh_database()
    account, admin, key = seed()
    host = tenant_host(account.account_number)
    console = Client(HTTP_HOST=host)
    console.force_login(admin.user)
    api = Client(HTTP_HOST=host)
    anonymous = Client(HTTP_HOST=host)
    pages = {
        "console members (1,000 members)": (console, "/console/members/", {}),
        "API workspace list": (api, "/api/v1/workspaces/", {"HTTP_AUTHORIZATION": f"Token {key}"}),
    }
    for client, path, headers in pages.values():  # warm both ways
        for on in (True, False):
            set_wall(on)
            timed(client, path, **headers)
    results: dict[str, dict[str, list[float]]] = {name: {"on": [], "off": []} for name in pages}
    for r in range(ROUNDS):
        for on in ((True, False) if r % 2 == 0 else (False, True)):
            set_wall(on)
            for name, (client, path, headers) in pages.items():
                results[name]["on" if on else "off"].append(timed(client, path, **headers))
    warm = {}
    for on in (False, True):
        set_wall(on)
        anonymous.get("/")
        warm["with" if on else "without"] = statements(anonymous, "/")
    report = {"rounds": ROUNDS, "requests_per_round": N, "members": MEMBERS,
              "warm_home_statements": warm, "pages": {}}
    for name, times in results.items():
        on, off = median(times["on"]), median(times["off"])
        report["pages"][name] = {"with_wall_ms": round(on, 2), "without_ms": round(off, 2),
                                 "ratio": round(on / off, 3)}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
