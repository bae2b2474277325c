"""A short soak (``tests/support/soak.py``): mixed tenant traffic against gunicorn on private
PostgreSQL + Redis, straight and through PgBouncer in transaction mode; zero 5xx, every write
acknowledged is in the database and nothing unacknowledged is. The long runs are
``scripts/soak --duration 120`` and ``scripts/soak --pgbouncer --duration 60``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.soak import soak

DURATION = 12.0  # seconds of traffic; the documented long run is 120


@pytest.mark.services
@pytest.mark.parametrize("pgbouncer", [False, True], ids=["direct", "pgbouncer-transaction"])
def test_short_soak_has_no_5xx_and_loses_no_writes(tmp_path: Path, pgbouncer: bool):
    findings = soak(DURATION, tmp=tmp_path, pgbouncer=pgbouncer)
    summary = findings.summary()
    print("\nsoak:", json.dumps(summary))
    assert findings.crashes == []
    assert summary["requests"] > 200, summary  # traffic really flowed
    assert summary["5xx"] == 0, findings.unexpected
    assert summary["transport_errors"] == 0, findings.unexpected
    assert findings.unexpected == []
    assert summary["tracebacks_logged"] == 0
    for kind in ("contact", "workspace"):
        assert findings.acknowledged[kind], f"no {kind} was written"
        assert findings.lost(kind) == set(), kind
        assert findings.unacknowledged(kind) == set(), kind
    # every kind of traffic was exercised
    kinds = {key.rsplit(" ", 1)[0] for key in summary["statuses"]}
    assert kinds == {"home", "workspace page", "console", "console members", "api read",
                     "api add contact", "api add workspace", "key on other tenant",
                     "bad host", "healthz"}, kinds
    if pgbouncer:  # the traffic really went through the pooler, sharing server connections
        pooler = summary["pooler"]
        assert pooler["pool_mode"] == "transaction", pooler
        assert pooler["server_pool_size"] < pooler["gunicorn_workers"], pooler
        assert pooler["transactions"] >= summary["requests"] // 2, pooler
