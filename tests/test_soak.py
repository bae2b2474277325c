"""A short soak (``tests/soak.py``): mixed tenant traffic against gunicorn on private
PostgreSQL + Redis; zero 5xx, every write acknowledged is in the database and nothing
unacknowledged is. The long run is ``scripts/soak --duration 120``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.soak import soak

DURATION = 12.0  # seconds of traffic; the documented long run is 120


@pytest.mark.services
def test_short_soak_has_no_5xx_and_loses_no_writes(tmp_path: Path):
    findings = soak(DURATION, tmp=tmp_path)
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
