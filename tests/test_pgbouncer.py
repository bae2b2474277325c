"""Transaction-mode pooling: DATABASE_POOL=pgbouncer settings (read at import, so in
subprocesses) and the app's ORM through a private PgBouncer in transaction mode, where
every transaction may run on a different server connection."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.services import PgBouncerServer, pgbouncer_server, postgres_server

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = ("import json; from django.conf import settings as s; d = s.DATABASES['default'];"
            " print(json.dumps({'pool': s.DATABASE_POOL, 'ssc': d.get('DISABLE_SERVER_SIDE_CURSORS'),"
            " 'options': d['OPTIONS'], 'max_age': d['CONN_MAX_AGE']}))")


def _python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DATABASE_POOL")}
    full.update(DJANGO_SETTINGS_MODULE="smarter.settings", **env)
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full, capture_output=True,
                          text=True, timeout=60)


def test_pgbouncer_settings_keep_no_state_across_transactions():
    proc = _python(SETTINGS, DATABASE_URL="postgres://u@127.0.0.1:6432/app",
                   DATABASE_POOL="pgbouncer")
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout.strip().splitlines()[-1])
    assert s["pool"] == "pgbouncer"
    assert s["ssc"] is True  # no WITH HOLD cursors outliving their transaction
    assert s["options"]["prepare_threshold"] is None  # no prepared statements
    assert s["options"]["server_side_binding"] is False
    assert s["max_age"] == 60  # persistent client connections to the pooler


def test_without_a_pool_server_side_cursors_stay_on():
    proc = _python(SETTINGS, DATABASE_URL="postgres://u@127.0.0.1:5432/app")
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout.strip().splitlines()[-1])
    assert s["pool"] == "" and not s["ssc"]


@pytest.mark.parametrize(("url", "pool", "message"), [
    ("postgres://u@127.0.0.1/app", "pgpool", "DATABASE_POOL must be empty or 'pgbouncer'"),
    ("sqlite:///x.sqlite3", "pgbouncer", "needs a postgres:// DATABASE_URL"),
])
def test_bad_pool_setting_refuses_to_start(url: str, pool: str, message: str):
    proc = _python("import django; django.setup()", DATABASE_URL=url, DATABASE_POOL=pool)
    assert proc.returncode != 0
    assert message in proc.stderr


@pytest.fixture(scope="module")
def bouncer() -> Iterator[PgBouncerServer]:
    import psycopg

    with postgres_server() as postgres, pgbouncer_server(postgres.port, pool_size=2) as server:
        with psycopg.connect(postgres.url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE without_setting")
        yield server


ORM_THROUGH_POOLER = r"""
import json, threading
import django
django.setup()
from django.core.management import call_command
from django.db import connection, connections, transaction
from tenancy.wall import enter_platform
enter_platform("pooler test script")  # not a request: explicit platform mode
from accounts.models import Account
call_command("migrate", "--noinput", "-v0")
Account.objects.bulk_create(Account(company_name=f"Pooled {i}", account_number=f"0000-0000-{i:04d}")
                            for i in range(1, 301))
errors = []
# .iterator() outside a transaction while another process's transaction takes the server
# connection it started on: a server-side cursor (declared WITH HOLD on that connection)
# would be fetched from on the other one, where it does not exist
holding, release = threading.Event(), threading.Event()
def hold_a_server_connection():
    with transaction.atomic():
        Account.objects.count()
        holding.set()
        release.wait(10)
    connections.close_all()
rows = Account.objects.filter(company_name__startswith="Pooled").order_by("id").iterator(chunk_size=7)
names = [next(rows).company_name]
holder = threading.Thread(target=hold_a_server_connection)
holder.start()
holding.wait(10)
try:
    names += [a.company_name for a in rows]
except Exception as exc:
    errors.append(repr(exc))
finally:
    release.set()
    holder.join()
def worker(n):
    try:
        for _ in range(40):  # many short transactions from 4 threads on 2 server connections
            with transaction.atomic():
                Account.objects.filter(account_number=f"0000-0000-{n:04d}").update(city=f"c{n}")
            Account.objects.get(account_number=f"0000-0000-{n:04d}")  # repeated: psycopg would prepare it
    except Exception as exc:
        errors.append(repr(exc))
    finally:
        connections.close_all()
threads = [threading.Thread(target=worker, args=(n,)) for n in range(1, 5)]
for t in threads: t.start()
for t in threads: t.join()
with connection.cursor() as cur:
    cur.execute("SELECT count(*) FROM pg_prepared_statements")
    prepared = cur.fetchone()[0]
cities = sorted(Account.objects.filter(city__startswith="c").values_list("city", flat=True))
print(json.dumps({"names": len(names), "errors": errors, "prepared": prepared, "cities": cities}))
"""


@pytest.mark.services
def test_orm_through_transaction_mode_pgbouncer(bouncer: PgBouncerServer):
    assert {r["key"]: r["value"] for r in bouncer.show("CONFIG")}["pool_mode"] == "transaction"
    proc = _python(ORM_THROUGH_POOLER, DATABASE_URL=bouncer.url(), DATABASE_POOL="pgbouncer")
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["errors"] == []
    assert result["names"] == 300  # the iterator read every row
    assert result["prepared"] == 0
    assert result["cities"] == ["c1", "c2", "c3", "c4"]
    stats = next(r for r in bouncer.show("STATS") if r["database"] == "postgres")
    assert int(stats["total_xact_count"]) > 160  # the work really went through the pooler


@pytest.mark.services
def test_without_the_pool_setting_a_server_side_cursor_breaks(bouncer: PgBouncerServer):
    """The contrast: the same work with Django's defaults fails through the same pooler."""
    proc = _python(ORM_THROUGH_POOLER, DATABASE_URL=bouncer.url("without_setting"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert any("does not exist" in e for e in result["errors"]), result["errors"]
    assert result["names"] < 300
