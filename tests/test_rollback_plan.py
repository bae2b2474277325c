"""``manage.py rollback_plan``: the migrate targets that return the database to a past
release, generated from the database's record of applied migrations (never a stale table)."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.migrations.recorder import MigrationRecorder
from django.db.models import Q

BEFORE, RELEASE, AFTER = (datetime(2026, m, 1, tzinfo=UTC) for m in (1, 3, 6))


def plan(moment: str) -> str:
    out = StringIO()
    call_command("rollback_plan", "--before", moment, stdout=out)
    return out.getvalue()


@pytest.fixture
def deployed(db):  # type: ignore[no-untyped-def]
    """Every migration applied at BEFORE, except the workspaces app's wall and later ones and
    the operations app, applied by a release deployed after RELEASE."""
    applied = MigrationRecorder.Migration.objects
    applied.update(applied=BEFORE)
    later = Q(app="workspaces", name__gte="0004") | Q(app="operations")
    applied.filter(later).update(applied=AFTER)
    return applied.filter(later).count()


def test_the_plan_reverses_what_came_after_the_release_and_calls_out_the_wall(deployed):
    out = plan("2026-03-01T00:00Z")
    assert "python manage.py migrate workspaces 0003_account_id_unique" in out
    assert "python manage.py migrate operations zero" in out
    assert "workspaces 0004_tenant_wall [DATABASE WALL]" in out
    assert "REMOVES the database wall (row-level security) from workspace" in out
    assert "drops the table of WorkerHeartbeat: its rows are lost" in out
    assert "migrate accounts" not in out  # nothing of accounts came later


def test_nothing_to_reverse_after_the_last_migration(deployed):
    assert plan("2026-07-01T00:00Z").startswith("Nothing to reverse")


@pytest.mark.parametrize(("moment", "message"), [
    ("2025-12-01T00:00Z", "the database was created later"),
    ("next tuesday", "--before must be a date and time"),
])
def test_a_moment_it_cannot_return_to_is_a_clear_error(deployed, moment, message):
    with pytest.raises(CommandError, match=message):
        plan(moment)
