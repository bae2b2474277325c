"""Soak: mixed tenant traffic against gunicorn on PostgreSQL + Redis for a bounded time,
then a count of what the database holds against what the server acknowledged.

Private PostgreSQL and Redis on spare loopback ports (``tests/support/services.py``), the
Procfile's web line (DEBUG off), ``TENANTS`` seeded tenants. ``CLIENTS`` threads, each with
its own tenant and signed-in session, loop until the deadline over a weighted mix:
anonymous tenant and workspace pages, console pages, API reads, API writes (contacts and
workspaces with names unique to the soak; 429 accepted, see ``API_RATE_LIMIT``), an API
key used on another tenant's host (must be refused) and malformed or unknown hosts (must
be 400/404).

Findings: every status by kind, 5xx count, transport errors, latency percentiles, and
for writes: acknowledged (201) vs rows found afterwards, lost (acknowledged, not in the
database) and unacknowledged rows (in the database, never acknowledged). Run by
``tests/test_soak.py`` (short) and ``scripts/soak --duration 120`` (long).

With ``pgbouncer=True`` (``scripts/soak --pgbouncer``) the app reaches PostgreSQL through a
private PgBouncer in transaction mode (``DATABASE_POOL=pgbouncer``) with fewer server
connections than gunicorn workers, so transactions of different workers share server
connections; the pooler's own counters are added to the findings.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.http_stack import Browser, Reply, Tenant, gunicorn, production_env, seed
from tests.support.services import PgBouncerServer, pgbouncer_server, postgres_server, redis_server

TENANTS = 6
CLIENTS = 8
WORKERS = 2
# Per API key. The product's default (600/minute) would answer most of the soak's API traffic
# with 429 after the first minute; the soak is about correctness under load, so it raises the
# limit. A 429 is still an accepted answer (and a throttled write must not be in the database).
API_RATE_LIMIT = "100000/minute"
# Failed API keys per client address: every soak client shares 127.0.0.1, and its foreign-key
# requests (always 401) would soon get the whole address 429s; tests/test_api_key_failures.py
# covers that limit.
API_AUTH_FAILURE_LIMIT = "1000000"


@dataclass
class Findings:
    duration: float = 0.0
    statuses: Counter[str] = field(default_factory=Counter)  # "kind status" -> count
    unexpected: list[str] = field(default_factory=list)  # wrong status or body, first 20
    transport_errors: int = 0
    latencies: list[float] = field(default_factory=list)
    acknowledged: dict[str, set[tuple[str, str]]] = field(
        default_factory=lambda: {"contact": set(), "workspace": set()})
    found: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    traceback_lines: int = 0
    crashes: list[str] = field(default_factory=list)  # clients that died (a soak bug)
    pooler: dict[str, Any] = field(default_factory=dict)  # PgBouncer counters, if one was used

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    @property
    def server_errors(self) -> int:
        return sum(n for key, n in self.statuses.items() if key.rsplit(" ", 1)[1][0] == "5")

    def lost(self, kind: str) -> set[tuple[str, str]]:
        return self.acknowledged[kind] - self.found[kind]

    def unacknowledged(self, kind: str) -> set[tuple[str, str]]:
        return self.found[kind] - self.acknowledged[kind]

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0

    def summary(self) -> dict[str, Any]:
        return {
            "duration_s": round(self.duration, 1),
            "requests": self.requests,
            "requests_per_s": round(self.requests / self.duration, 1) if self.duration else 0,
            "p50_ms": round(self.percentile(0.50) * 1000, 1),
            "p99_ms": round(self.percentile(0.99) * 1000, 1),
            "max_ms": round(max(self.latencies, default=0) * 1000, 1),
            "5xx": self.server_errors,
            "transport_errors": self.transport_errors,
            "unexpected": len(self.unexpected),
            "client_crashes": len(self.crashes),
            "tracebacks_logged": self.traceback_lines,
            "writes": {
                kind: {"acknowledged": len(self.acknowledged[kind]),
                       "rows_found": len(self.found[kind]),
                       "lost": len(self.lost(kind)),
                       "unacknowledged": len(self.unacknowledged(kind))}
                for kind in self.acknowledged
            },
            "statuses": dict(sorted(self.statuses.items())),
            **({"pooler": self.pooler} if self.pooler else {}),
        }


class Client(threading.Thread):
    """One simulated user: a tenant admin with a browser session and an API key."""

    def __init__(self, index: int, port: int, tenant: Tenant, other: Tenant,
                 deadline: float, findings: Findings, lock: threading.Lock) -> None:
        super().__init__(name=f"soak-{index}", daemon=True)
        self.index, self.port, self.tenant, self.other = index, port, tenant, other
        self.deadline, self.findings, self.lock = deadline, findings, lock
        self.random = random.Random(index)
        self.seq = 0
        self.browser = Browser(port, tenant.host)
        self.auth = {"Authorization": f"Token {tenant.key}"}

    # Each step: (kind, weight, do) where do() returns (reply, ok, written row or None).
    def steps(self) -> list[tuple[str, int, Callable[[], tuple[Reply, bool, Any]]]]:
        t = self.tenant
        anon = Browser(self.port, t.host)
        space = Browser(self.port, t.workspace_host)
        return [
            ("home", 20, lambda: self._page(anon.get("/"), t.company)),
            ("workspace page", 15, lambda: self._page(space.get("/"), "launchpad")),
            ("console", 10, lambda: self._page(self.browser.get("/console/"), t.company)),
            ("console members", 5, lambda: self._page(self.browser.get("/console/members/"),
                                                     t.username)),
            ("api read", 15, lambda: self._expect(
                anon.get("/api/v1/contacts/", **self.auth), 200, 429)),
            ("api add contact", 15, self._add_contact),
            ("api add workspace", 8, self._add_workspace),
            ("key on other tenant", 4, lambda: self._expect(
                Browser(self.port, self.other.host).get("/api/v1/contacts/", **self.auth),
                401, 403)),
            ("bad host", 4, lambda: self._expect(
                Browser(self.port, self.random.choice(BAD_HOSTS)).get("/"), 400, 404)),
            ("healthz", 4, lambda: self._expect(anon.get("/healthz"), 200)),
        ]

    @staticmethod
    def _page(reply: Reply, needle: str) -> tuple[Reply, bool, None]:
        return reply, reply.status == 200 and needle in reply.text, None

    @staticmethod
    def _expect(reply: Reply, *statuses: int) -> tuple[Reply, bool, None]:
        return reply, reply.status in statuses, None

    def _unique(self) -> str:
        self.seq += 1
        return f"s{self.index}n{self.seq}"

    def _add_contact(self) -> tuple[Reply, bool, Any]:
        email = f"{self._unique()}@soak.test"
        reply = Browser(self.port, self.tenant.host).post_json(
            "/api/v1/contacts/", {"email": email}, **self.auth)
        return reply, reply.status in (201, 429), ("contact", (self.tenant.number, email))

    def _add_workspace(self) -> tuple[Reply, bool, Any]:
        name = self._unique()
        reply = Browser(self.port, self.tenant.host).post_json(
            "/api/v1/workspaces/", {"name": name, "is_public": False}, **self.auth)
        return reply, reply.status in (201, 429), ("workspace", (self.tenant.number, name))

    def run(self) -> None:
        try:
            self._loop()
        except BaseException as exc:  # noqa: BLE001 - a crashed client fails the soak
            with self.lock:
                self.findings.crashes.append(f"{self.name}: {exc!r}")

    def _loop(self) -> None:
        steps = self.steps()
        weights = [w for _, w, _ in steps]
        while time.monotonic() < self.deadline:
            kind, _, do = self.random.choices(steps, weights)[0]
            try:
                reply, ok, written = do()
            except OSError as exc:  # refused, reset, timed out: the server failed us
                with self.lock:
                    self.findings.transport_errors += 1
                    self.findings.unexpected.append(f"{kind}: {exc!r}")
                continue
            with self.lock:
                self.findings.statuses[f"{kind} {reply.status}"] += 1
                self.findings.latencies.append(reply.seconds)
                if not ok and len(self.findings.unexpected) < 20:
                    self.findings.unexpected.append(f"{kind}: {reply.status} {reply.text[:200]}")
                if written and reply.status == 201:
                    self.findings.acknowledged[written[0]].add(written[1])


BAD_HOSTS = [
    "0000-0000-0000.alpha.api.example.com",  # unknown account
    "nope.alpha.api.example.com",  # not an account number
    "a..b.example.com",
    "x" * 300 + ".example.com",
    "3141-5926.alpha.api.example.com",  # two groups
    "evil.test",
]


def rows_in_database(database_url: str) -> dict[str, set[tuple[str, str]]]:
    """The soak's rows, read straight from PostgreSQL (not through the app or its cache)."""
    import psycopg

    with psycopg.connect(database_url) as conn:
        contacts = conn.execute(
            "SELECT a.account_number, c.email FROM accounts_accountcontact c "
            "JOIN accounts_account a ON a.id = c.account_id WHERE c.email LIKE %s",
            ["%@soak.test"]).fetchall()
        spaces = conn.execute(
            "SELECT a.account_number, w.name FROM workspaces_workspace w "
            "JOIN accounts_account a ON a.id = w.account_id WHERE w.name LIKE %s",
            ["s%n%"]).fetchall()
    return {"contact": set(contacts), "workspace": set(spaces)}


POOLER_STATS = ("total_xact_count", "total_query_count", "total_wait_time")


def pooler_stats(bouncer: PgBouncerServer) -> dict[str, int]:
    """PgBouncer's running totals for the app's database (``SHOW STATS``)."""
    row = next(r for r in bouncer.show("STATS") if r["database"] == "postgres")
    return {key: int(row[key]) for key in POOLER_STATS}


def pooler_counters(bouncer: PgBouncerServer, before: dict[str, int],
                    workers: int) -> dict[str, Any]:
    """What PgBouncer did during the traffic: its mode, server connections per worker,
    transactions and queries routed, and the time clients waited for a server connection."""
    after = pooler_stats(bouncer)
    delta = {key: after[key] - before[key] for key in POOLER_STATS}
    config = {r["key"]: r["value"] for r in bouncer.show("CONFIG")}
    return {
        "pool_mode": config["pool_mode"],
        "server_pool_size": int(config["default_pool_size"]),
        "gunicorn_workers": workers,
        "transactions": delta["total_xact_count"],
        "queries": delta["total_query_count"],
        "client_wait_total_ms": round(delta["total_wait_time"] / 1000, 1),
    }


def soak(duration: float, clients: int = CLIENTS, tenants: int = TENANTS,
         workers: int = WORKERS, api_rate: str = API_RATE_LIMIT,
         tmp: Path | None = None, pgbouncer: bool = False) -> Findings:
    """Run the soak for ``duration`` seconds and return what was seen and counted."""
    tmp = tmp or Path(tempfile.mkdtemp(prefix="soak-"))
    findings = Findings()
    with ExitStack() as stack:
        postgres = stack.enter_context(postgres_server())
        redis = stack.enter_context(redis_server())
        bouncer = None
        database_url = postgres.url
        if pgbouncer:
            # fewer server connections than workers: their transactions must share them
            bouncer = stack.enter_context(
                pgbouncer_server(postgres.port, pool_size=max(1, workers // 2)))
            database_url = bouncer.url()
        env = production_env(tmp, database_url, redis.url)
        env["API_RATE_LIMIT"] = api_rate
        env["API_AUTH_FAILURE_LIMIT"] = API_AUTH_FAILURE_LIMIT
        if bouncer is not None:
            env["DATABASE_POOL"] = "pgbouncer"
        seeded = seed(env, [f"Soak Tenant {i}" for i in range(tenants)])
        log = tmp / "gunicorn.log"
        with gunicorn(env, log, workers=workers) as port:
            lock = threading.Lock()
            threads = []
            for i in range(clients):
                tenant, other = seeded[i % tenants], seeded[(i + 1) % tenants]
                client = Client(i, port, tenant, other, 0.0, findings, lock)
                client.browser.sign_in(tenant.username)
                threads.append(client)
            before = pooler_stats(bouncer) if bouncer is not None else {}
            started = time.monotonic()
            for client in threads:
                client.deadline = started + duration
                client.start()
            for client in threads:
                client.join(duration + 60)
            findings.duration = time.monotonic() - started
            assert not any(c.is_alive() for c in threads), "a soak client did not stop"
        findings.found = rows_in_database(postgres.url)  # straight from PostgreSQL
        findings.traceback_lines = log.read_text(errors="replace").count("Traceback")
        if bouncer is not None:
            findings.pooler = pooler_counters(bouncer, before, workers)
    return findings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120.0, help="seconds (default 120)")
    parser.add_argument("--clients", type=int, default=CLIENTS)
    parser.add_argument("--tenants", type=int, default=TENANTS)
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers")
    parser.add_argument("--api-rate", default=API_RATE_LIMIT,
                        help=f"API_RATE_LIMIT per key (default {API_RATE_LIMIT})")
    parser.add_argument("--pgbouncer", action="store_true",
                        help="through a private PgBouncer in transaction mode (DATABASE_POOL=pgbouncer)")
    args = parser.parse_args(argv)
    if args.duration <= 0 or min(args.clients, args.tenants, args.workers) < 1:
        parser.error("--duration, --clients, --tenants and --workers must be positive")
    findings = soak(args.duration, args.clients, args.tenants, args.workers, args.api_rate,
                    pgbouncer=args.pgbouncer)
    summary = findings.summary()
    print(json.dumps(summary, indent=2))
    for line in findings.crashes + findings.unexpected[:20]:
        print("unexpected:", line, file=sys.stderr)
    failed = (summary["5xx"] or summary["transport_errors"] or summary["unexpected"]
              or summary["client_crashes"]
              or summary["tracebacks_logged"]
              or any(w["lost"] or w["unacknowledged"] for w in summary["writes"].values()))
    print("soak:", "FAILED" if failed else "passed", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
