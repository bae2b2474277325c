"""Row-level security policies of the tenant tables, as a migration operation, and the check
that every tenant table has one.

Every model with an ``account`` foreign key to the tenant model (``tenancy.distribution``
lists them) must add ``TenantWall("model_name", ...)`` to its app's migrations; the system
check ``tenancy.W110`` (tag ``distribution``, which CI fails on) names any that has not, or
whose shared-read owner column disagrees with the ``permission_owner_field`` of the model's
registration (``tenancy.register``); ``tenancy.W113``/``W114`` that every tenant model is
registered and nothing else is (:func:`check_registrations`). On PostgreSQL the operation
enables and FORCEs row-level security on the table (so the table's owner, the one role a
Heroku app connects as, is bound too) and creates:

- ``tenant_wall`` (all commands): the row's ``account_id`` is the transaction's tenant, or
  the transaction is in platform mode; the same check for rows written;
- ``tenant_shared_wall`` (SELECT only, when ``shared_owner_column`` is given): the rows of
  the platform account owned by its admin, which the seed's read rule lets every tenant read.

PostgreSQL ORs permissive policies: a row passes if one of them lets it. The settings are read
with ``current_setting(name, true)``; the tenant's once per statement (see
:func:`tenant_predicate`). Unset or empty means no tenant, so a transaction that set nothing
sees no rows. On
other databases the operation does nothing (SQLite keeps the contract in the ORM,
``tenancy.wall_scoping``). A change of the predicates reaches existing databases through
:class:`RenewTenantWalls`, added to a new migration of each app with tenant tables.
"""

from __future__ import annotations

import functools
from typing import Any

from django.core import checks
from django.db import models
from django.db.migrations.operations.base import Operation

from .distribution import _tenant_field, plan, tenant_model
from .registry import registry
from .wall import ACCOUNT_SETTING, PLATFORM_SETTING, SHARED_ACCOUNT_SETTING, SHARED_OWNER_SETTING
from .wall_scoping import TenantWallManager, shared_owner_column

POLICY = "tenant_wall"
SHARED_POLICY = "tenant_shared_wall"
#: Names earlier versions of the operation gave policies, dropped when the policies are renewed.
_FORMER_POLICIES = ("tenant_wall_shared",)


def _setting(name: str) -> str:
    return f"current_setting('{name}', true)"


def _int_setting(name: str) -> str:
    return f"NULLIF({_setting(name)}, '')::bigint"


def tenant_predicate(column: str = "account_id") -> str:
    """The rows a transaction may see and write: its tenant's, or all in platform mode.

    The tenant's id is read in a scalar sub-select, which PostgreSQL evaluates once per
    statement (an InitPlan): per row, a tenant's statement pays one comparison with a
    parameter, and the OR stops there for every row of the tenant. The platform setting is read
    per row only when that comparison fails (platform mode, or a row the ORM did not filter
    out); a sub-select for it too would cost every statement an InitPlan more."""
    return (f"({column} = (SELECT {_int_setting(ACCOUNT_SETTING)}) "
            f"OR {_setting(PLATFORM_SETTING)} = 'on')")


def shared_predicate(owner_column: str, column: str = "account_id") -> str:
    """The platform admin's rows, readable by every tenant."""
    return (f"({column} = {_int_setting(SHARED_ACCOUNT_SETTING)} "
            f"AND {owner_column} = {_int_setting(SHARED_OWNER_SETTING)})")


def policy_sql(table: str, shared_owner_column: str | None = None,
               column: str = "account_id") -> list[str]:
    """The statements that put ``table`` behind the wall (idempotent).

    PostgreSQL ORs permissive policies in the reverse order of their names, so
    ``tenant_wall`` (which sorts after ``tenant_shared_wall``) is tested first: the cheap
    tenant comparison decides most rows. Only the cost depends on that order, not the rows."""
    sql = [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        *drop_policies_sql(table),
        f"CREATE POLICY {POLICY} ON {table} USING {tenant_predicate(column)} "
        f"WITH CHECK {tenant_predicate(column)}",
    ]
    if shared_owner_column:
        sql.append(f"CREATE POLICY {SHARED_POLICY} ON {table} FOR SELECT "
                   f"USING {shared_predicate(shared_owner_column, column)}")
    return sql


def drop_policies_sql(table: str) -> list[str]:
    return [f"DROP POLICY IF EXISTS {name} ON {table}"
            for name in (*_FORMER_POLICIES, SHARED_POLICY, POLICY)]


def drop_sql(table: str) -> list[str]:
    return [*drop_policies_sql(table),
            f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
            f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"]


class TenantWall(Operation):
    """Migration operation: the tenant table of ``model_name`` behind the database wall.

    ``shared_owner_column`` is the owner column of rows the platform shares for reading
    (``user_profile_id`` for owned resources, ``id`` for profiles), or None.
    """

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str, shared_owner_column: str | None = None) -> None:
        self.model_name = model_name
        self.shared_owner_column = shared_owner_column

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        kwargs = {"shared_owner_column": self.shared_owner_column} if self.shared_owner_column else {}
        return "tenancy.wall_policy.TenantWall", [self.model_name], kwargs

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def _run(self, app_label: str, schema_editor: Any, to_state: Any, drop: bool) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        table = to_state.apps.get_model(app_label, self.model_name)._meta.db_table
        for statement in (drop_sql(table) if drop else
                          policy_sql(table, self.shared_owner_column)):
            schema_editor.execute(statement)

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any,
                          to_state: Any) -> None:
        self._run(app_label, schema_editor, to_state, drop=False)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any,
                           to_state: Any) -> None:
        self._run(app_label, schema_editor, from_state, drop=True)

    def describe(self) -> str:
        return f"Row-level security (the database wall) on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"wall_{self.model_name.lower()}"


class RenewTenantWalls(Operation):
    """Migration operation: re-create the policies of every table of this app that a
    :class:`TenantWall` of its migrations walls (and that is walled in the database), with the
    current predicates. One operation for all of an app's tenant tables, so a change of the
    predicates is one migration per app, not a copy of each ``TenantWall``.

    Backwards it does nothing: the renewed policies read the same settings and admit the same
    rows as the ones they replace, so older code runs unchanged on them.
    """

    reduces_to_sql = True
    reversible = True

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return "tenancy.wall_policy.RenewTenantWalls", [], {}

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any,
                          to_state: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT tablename FROM pg_policies WHERE policyname = %s", [POLICY])
            walled = {row[0] for row in cursor.fetchall()}
        for (label, model_name), op in sorted(migrated_walls().items()):
            if label != app_label or (label, model_name) not in to_state.models:
                continue
            table = to_state.apps.get_model(label, model_name)._meta.db_table
            if table in walled:
                for statement in policy_sql(table, op.shared_owner_column):
                    schema_editor.execute(statement)

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any,
                           to_state: Any) -> None:
        pass

    def describe(self) -> str:
        return "Renew the row-level security policies (the database wall) of this app's tables"

    @property
    def migration_name_fragment(self) -> str:
        return "renew_tenant_walls"


def tenant_tables() -> list[type[models.Model]]:
    """Every model with the tenant foreign key (distributed or reference alike)."""
    result = plan()
    return [m for m in result.roles
            if m is not result.tenant_model
            and _tenant_field(m, result.tenant_model, result.column) is not None]


def migrated_walls() -> dict[tuple[str, str], TenantWall]:
    """(app label, lower-case model name) -> the TenantWall operation in its migrations."""
    return dict(_disk_walls())


@functools.cache
def _disk_walls() -> dict[tuple[str, str], TenantWall]:
    """The migration files' TenantWall operations, read once per process."""
    from django.db.migrations.loader import MigrationLoader

    found: dict[tuple[str, str], TenantWall] = {}
    loader = MigrationLoader(None, ignore_no_migrations=True, load=True)
    for (app_label, _name), migration in loader.disk_migrations.items():
        for op in migration.operations:
            if isinstance(op, TenantWall):
                found[(app_label, op.model_name.lower())] = op
    return found


def check_wall_policies(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check (tag ``distribution``): every tenant table has its TenantWall migration."""
    walls = migrated_walls()
    problems: list[checks.CheckMessage] = []
    for model in tenant_tables():
        op = walls.get((model._meta.app_label, model._meta.model_name or ""))
        expected = shared_owner_column(model)
        if op is None:
            problems.append(checks.Warning(
                f"tenant table {model._meta.db_table} has no row-level security policy: add "
                f"migrations.TenantWall('{model._meta.model_name}'"
                + (f", shared_owner_column='{expected}'" if expected else "")
                + ") (from tenancy.wall_policy) to a migration of its app", obj=model,
                id="tenancy.W110"))
        if not isinstance(model._default_manager, TenantWallManager):
            problems.append(checks.Warning(
                f"{model._meta.label}'s default manager is not a TenantWallManager "
                "(tenancy.wall_scoping): on SQLite nothing would keep the wall's contract",
                obj=model, id="tenancy.W112"))
        if op is None:
            continue
        if op.shared_owner_column != expected:
            problems.append(checks.Warning(
                f"the TenantWall of {model._meta.db_table} shares rows by "
                f"{op.shared_owner_column!r} but the model's read rule shares by {expected!r}",
                obj=model, id="tenancy.W111"))
    return problems


def check_registrations(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check (tag ``distribution``): every tenant table is registered with
    ``tenancy.register`` (its one declaration), and only tenant tables and the tenant model are."""
    tables = tenant_tables()
    problems: list[checks.CheckMessage] = [
        checks.Warning(f"tenant model {model._meta.label} is not registered: add "
                       f"tenancy.register({model.__name__}, ...) to its models module", obj=model,
                       id="tenancy.W113")
        for model in tables if model not in registry
    ]
    problems += [
        checks.Warning(f"{model._meta.label} is registered as a tenant model but has no "
                       "tenant foreign key", obj=model, id="tenancy.W114")
        for model in registry if model not in tables and model is not tenant_model()
    ]
    return problems


def citus_policy_sql() -> list[str]:
    """The policies of every tenant table, for ``distribution_plan --sql`` (Citus propagates
    ``ALTER TABLE ... ROW LEVEL SECURITY`` and ``CREATE POLICY`` on distributed tables)."""
    walls = migrated_walls()
    sql = []
    for model in tenant_tables():
        op = walls.get((model._meta.app_label, model._meta.model_name or ""))
        owner = op.shared_owner_column if op is not None else shared_owner_column(model)
        sql += [s + ";" for s in policy_sql(model._meta.db_table, owner)]
    return sql
