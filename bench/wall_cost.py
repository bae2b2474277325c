"""The database wall's cost per request: the console's members page of a tenant with 1,000
members and of one with 10,000 (its count reads 10,000 rows), and the API's workspace list,
with the wall (row-level security + the settings each statement carries) and without it
(policies disabled, no settings sent), side by side in interleaved rounds (median per request).
Also counts the statements a warm request that runs no query sends (the wall must add none).

Each page is timed two ways: wall-clock time per request, and CPU time per request (this
process's plus the PostgreSQL backend's, from ``/proc/<pid>/schedstat``), which a machine
shared with other work disturbs far less than wall-clock time. The load averages at start and
end are printed beside them.

``--statements`` adds the per-statement breakdown: single statements of the walled tables
that read 1, 50, 1,000 and 10,000 rows, each timed (backend CPU and wall-clock, per statement)
with the policies off and no settings, with the settings alone (policies off), and with both.

Usage: DATABASE_URL=postgres://postgres@127.0.0.1:5432/wall_bench python bench/wall_cost.py
[--quick] [--statements]
The database named there is dropped and created again, owned by a role row-level security
binds (``tests.support.services.WALL_ROLE``: a superuser would bypass every policy). Prints JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

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
from tests.support.services import WALL_ROLE, use_unprivileged_role  # noqa: E402
from workspaces.models import Workspace  # noqa: E402

QUICK = "--quick" in sys.argv
STATEMENTS = "--statements" in sys.argv
ROUNDS = 5 if QUICK else 11
N = 10 if QUICK else 30
MEMBERS = 1000
BIG = 10_000
STATEMENT_REPEATS = 100 if QUICK else 300


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


def seed() -> tuple[Account, UserProfile, str, Account, UserProfile]:
    """Three tenants: Bench Corp and Other Corp (1,000 members and workspaces each) and Big
    Corp (10,000), plus the default account; statistics gathered, as autovacuum would."""
    call_command("collectstatic", "--noinput", "-v0")  # DEBUG off: the manifest's names
    call_command("migrate", "--noinput", "-v0")
    ensure_default_account()
    add_member(Account.objects.get(is_default_account=True), "root", superuser=True)
    other = Account.objects.create(company_name="Other Corp")
    account = Account.objects.create(company_name="Bench Corp")
    big = Account.objects.create(company_name="Big Corp")
    admin, _ = add_member(account, "bench-admin", admin=True, email="admin@bench.test")
    big_admin, _ = add_member(big, "big-admin", admin=True, email="admin@big.test")
    user_model = get_user_model()
    for target, tag, size in ((account, "m", MEMBERS), (other, "o", MEMBERS), (big, "z", BIG)):
        users = user_model.objects.bulk_create(
            user_model(username=f"{tag}{i:05d}", email=f"{tag}{i}@bench.test") for i in range(size))
        profiles = UserProfile.objects.bulk_create(UserProfile(user=u, account=target) for u in users)
        Workspace.objects.bulk_create(
            Workspace(user_profile=p, account=target, name=f"{tag}ws{i:05d}")
            for i, p in enumerate(profiles))
    _, key = ApiKey.create(admin, name="bench")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return account, admin, key, big, big_admin


def set_wall(on: bool, send_settings: bool | None = None) -> None:
    """Policies enforced and settings sent, or neither (what the project did before);
    ``send_settings`` apart from ``on`` measures the settings alone."""
    send = on if send_settings is None else send_settings
    with connection.cursor() as cursor:
        for model in tenant_tables():
            table = model._meta.db_table
            verb = "ENABLE" if on else "DISABLE"
            cursor.execute(f"ALTER TABLE {table} {verb} ROW LEVEL SECURITY")
    if send:
        wall.install(connection)
    elif wall.execute_wrapper in connection.execute_wrappers:
        connection.execute_wrappers.remove(wall.execute_wrapper)


def backend_cpu_ns(pid: int) -> int:
    """CPU time a local PostgreSQL backend has run, in ns (``/proc/<pid>/schedstat``)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def backend_pid() -> int:
    connection.ensure_connection()
    return int(connection.connection.info.backend_pid)


def timed(client: Client, path: str, **headers: str) -> tuple[float, float]:
    """(wall-clock ms, CPU ms of this process and the backend) per request, over N requests."""
    pid = backend_pid()
    c0, b0, t0 = time.process_time_ns(), backend_cpu_ns(pid), time.perf_counter_ns()
    for _ in range(N):
        response = client.get(path, **headers)
        if response.status_code != 200:
            sys.exit(f"{path}: {response.status_code}")
    t1, c1 = time.perf_counter_ns(), time.process_time_ns()
    if backend_pid() != pid:
        sys.exit("the database connection changed during a timed batch")
    b1 = backend_cpu_ns(pid)
    return (t1 - t0) / N / 1e6, ((c1 - c0) + (b1 - b0)) / N / 1e6


def statements(client: Client, path: str) -> int:
    sent: list[str] = []

    def count(execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        client.get(path)
    return len(sent)


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


#: (name, SQL, whose rows) of the per-statement breakdown: reads of 1, 50, 1,000, 10,000 rows.
BREAKDOWN = [
    ("1 row (by id)", "SELECT id, name FROM workspaces_workspace WHERE account_id = %s AND id = %s",
     "bench"),
    ("50 rows (first page)", "SELECT id, name FROM workspaces_workspace WHERE account_id = %s "
     "ORDER BY id LIMIT 50", "bench"),
    ("1,000 rows (count)", "SELECT COUNT(*) FROM workspaces_workspace WHERE account_id = %s",
     "bench"),
    ("10,000 rows (count)", "SELECT COUNT(*) FROM workspaces_workspace WHERE account_id = %s",
     "big"),
    ("10,000 rows (members join count)", "SELECT COUNT(*) FROM accounts_userprofile p JOIN "
     "auth_user u ON u.id = p.user_id WHERE p.account_id = %s", "big"),
]
CONFIGS = {"off": (False, False), "settings only": (False, True), "on": (True, True)}


def statement_breakdown(accounts: dict[str, Account]) -> dict[str, Any]:
    """Per statement: backend CPU and wall-clock us, and the plans with and without policies."""
    one = Workspace.objects.filter(account=accounts["bench"]).values_list("pk", flat=True).first()
    results: dict[str, dict[str, dict[str, list[float]]]] = {
        name: {c: {"cpu": [], "wall": []} for c in CONFIGS} for name, _, _ in BREAKDOWN}
    plans: dict[str, dict[str, list[str]]] = {}
    for r in range(ROUNDS):
        order = list(CONFIGS) if r % 2 == 0 else list(reversed(CONFIGS))
        for config in order:
            set_wall(*CONFIGS[config])
            for name, sql, whose in BREAKDOWN:
                params = [accounts[whose].pk, one][:sql.count("%s")]
                token = wall.enter_tenant(accounts[whose].pk)
                try:
                    pid = backend_pid()
                    with connection.cursor() as cursor:
                        cursor.execute(sql, params)  # warm
                        b0, t0 = backend_cpu_ns(pid), time.perf_counter_ns()
                        for _ in range(STATEMENT_REPEATS):
                            cursor.execute(sql, params)
                            cursor.fetchall()
                        t1, b1 = time.perf_counter_ns(), backend_cpu_ns(pid)
                        if r == 0 and config != "settings only":
                            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                            plans.setdefault(name, {})[config] = [row[0] for row in cursor.fetchall()]
                finally:
                    wall.leave(token)
                results[name][config]["cpu"].append((b1 - b0) / STATEMENT_REPEATS / 1e3)
                results[name][config]["wall"].append((t1 - t0) / STATEMENT_REPEATS / 1e3)
    summary: dict[str, Any] = {}
    for name, by_config in results.items():
        summary[name] = {f"{c} {k}_us": round(median(v), 1)
                         for c, m in by_config.items() for k, v in m.items()}
        summary[name]["plans"] = plans.get(name, {})
    return summary


def main() -> None:
    report: dict[str, Any] = {"load_average_start": loadavg()}
    fresh_database()
    account, admin, key, big, big_admin = seed()
    host = tenant_host(account.account_number)
    console = Client(HTTP_HOST=host)
    console.force_login(admin.user)
    big_console = Client(HTTP_HOST=tenant_host(big.account_number))
    big_console.force_login(big_admin.user)
    api = Client(HTTP_HOST=host)
    anonymous = Client(HTTP_HOST=host)
    pages = {
        "console members (1,000 members)": (console, "/console/members/", {}),
        "API workspace list": (api, "/api/v1/workspaces/", {"HTTP_AUTHORIZATION": f"Token {key}"}),
        "console members (10,000 members)": (big_console, "/console/members/", {}),
    }
    for client, path, headers in pages.values():  # warm both ways
        for on in (True, False):
            set_wall(on)
            timed(client, path, **headers)
    results: dict[str, dict[str, list[tuple[float, float]]]] = {
        name: {"on": [], "off": []} for name in pages}
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
    report.update({"rounds": ROUNDS, "requests_per_round": N, "members": [MEMBERS, BIG],
                   "warm_home_statements": warm, "pages": {}})
    for name, times in results.items():
        on, off = (median([t[0] for t in times[k]]) for k in ("on", "off"))
        cpu_on, cpu_off = (median([t[1] for t in times[k]]) for k in ("on", "off"))
        report["pages"][name] = {"with_wall_ms": round(on, 2), "without_ms": round(off, 2),
                                 "ratio": round(on / off, 3),
                                 "cpu_with_wall_ms": round(cpu_on, 2),
                                 "cpu_without_ms": round(cpu_off, 2),
                                 "cpu_ratio": round(cpu_on / cpu_off, 3)}
    if STATEMENTS:
        report["statements"] = statement_breakdown({"bench": account, "big": big})
    set_wall(True)
    report["load_average_end"] = loadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
