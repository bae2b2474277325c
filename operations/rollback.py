"""What rolling the database back to a past release means: the migrations applied after the
moment that release was deployed, the ``migrate`` targets that reverse them, and what
reversing each one does (drops a table, a column, the database wall...). Read from the
database's own record of applied migrations (``django_migrations.applied``) and the current
code's migration graph, so the list is never stale."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, migrations
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.operations.base import Operation


class NothingToReturnTo(Exception):
    """The database was created after the given moment: only a backup goes further back."""


@dataclass
class Step:
    """One migration to reverse, with what reversing each of its operations does."""

    app: str
    name: str
    effects: list[str] = field(default_factory=list)
    irreversible: bool = False
    wall: bool = False


@dataclass
class Plan:
    targets: dict[str, str]  # app -> migration to return to, or "zero"
    steps: list[Step]


def _effect(op: Operation) -> str:
    """What reversing ``op`` does to data, in words."""
    if type(op).__module__ == "tenancy.wall_policy":
        return f"REMOVES the database wall (row-level security) from {op.describe().split(' on ')[-1]}"
    if isinstance(op, migrations.CreateModel):
        return f"drops the table of {op.name}: its rows are lost"
    if isinstance(op, migrations.AddField):
        return f"drops the column {op.model_name}.{op.name}: its values are lost"
    if isinstance(op, migrations.RemoveField | migrations.DeleteModel):
        return f"adds back {op.describe().split(' ', 2)[-1]} empty: the values removed are not restored"
    if isinstance(op, migrations.AddIndex | migrations.AddConstraint):
        return f"drops {op.describe()[0].lower()}{op.describe()[1:]} (no data)"
    if isinstance(op, migrations.RunPython | migrations.RunSQL):
        return "runs its reverse code" if op.reversible else "cannot be reversed"
    return f"undoes: {op.describe()}"


def plan_back_to(moment: datetime) -> Plan:
    """The migrations applied after ``moment`` and how to reverse them."""
    executor = MigrationExecutor(connection)
    if not executor.recorder.has_table():
        raise NothingToReturnTo("This database has no migrations at all: there is nothing to reverse.")
    applied = list(executor.recorder.migration_qs.order_by("applied", "id")
                   .values_list("app", "name", "applied"))
    if not any(when <= moment for _, _, when in applied):
        raise NothingToReturnTo(f"No migration was applied before {moment:%Y-%m-%d %H:%M %Z}: the "
                                "database was created later. Restore a backup taken before it instead.")
    later = [(app, name) for app, name, when in applied if when > moment]
    targets: dict[str, str] = {}
    for app in dict.fromkeys(app for app, _ in later):
        earlier = [name for a, name, when in applied if a == app and when <= moment]
        targets[app] = earlier[-1] if earlier else "zero"
    plan = executor.migration_plan([(app, None if name == "zero" else name)
                                    for app, name in targets.items()])
    steps = []
    for migration, backwards in plan:
        assert backwards  # targets are applied migrations: the plan only goes back
        step = Step(migration.app_label, migration.name)
        for op in reversed(migration.operations):
            step.effects.append(_effect(op))
            step.irreversible |= not op.reversible
            step.wall |= type(op).__module__ == "tenancy.wall_policy"
        steps.append(step)
    return Plan(targets, steps)
