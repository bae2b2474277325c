"""Is the schema ready to be distributed by tenant (Citus, as django-multitenant does)?

Every model with a foreign key named ``TENANCY_TENANT_FIELD`` (``account``) to the tenant
model (``TENANCY_TENANT_MODEL``) is *tenant-owned*: on Citus its table is distributed by
that column (``account_id``), all such tables co-located, so one tenant's rows live on one
node. That is possible only if

- every unique field and unique constraint of a tenant-owned table includes ``account_id``
  (a node can only enforce uniqueness within its own shards);
- a foreign key to a tenant-owned table comes from a table that carries ``account_id``
  too, so the join stays on one node; and the referenced table is unique on
  (``account_id``, primary key), so the key can include ``account_id``;
- tenant-owned tables reference only tenant-owned or *reference* tables (replicated to
  every node): the tenant table itself, users, content types, tags.

The primary key ``id`` is the one known exception: it stays the sole key in Django (a
global sequence keeps it unique); when a table is distributed its primary key becomes
(``account_id``, ``id``), see ``docs/SCALING.md``.

A tenant-owned model that must stay global (e.g. something unique across all tenants) says
so with a class attribute ``distribution_reference_reason = "why"``: it is then planned as a
reference table and must not reference tenant-owned tables.

:func:`plan` classifies models and lists violations; :func:`check_distribution` is the system
check (tag ``distribution``); ``manage.py distribution_plan`` prints the plan, and with
``--sql`` :meth:`Plan.citus_script`, the whole conversion of a single-node database to Citus.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.expressions import F

DISTRIBUTED, REFERENCE, LOCAL = "distributed", "reference", "local"
TENANT_TABLE_REASON = "the tenant table: one row per account, read by every request"
CHECK_TAG = "distribution"


@dataclass(frozen=True)
class Violation:
    """One reason a table could not be distributed as it is."""

    model: type[models.Model]
    constraint: str  # the field or constraint at fault
    message: str
    id: str

    def __str__(self) -> str:
        return f"{self.model._meta.label}: {self.constraint}: {self.message}"


@dataclass
class Plan:
    """Each model's role (distributed, reference or local), why, and the violations."""

    tenant_model: type[models.Model]
    column: str
    roles: dict[type[models.Model], str] = field(default_factory=dict)
    reasons: dict[type[models.Model], str] = field(default_factory=dict)
    violations: list[Violation] = field(default_factory=list)

    def tables(self, role: str) -> list[type[models.Model]]:
        """Models of ``role``, each after the tables it references (the order Citus needs)."""
        chosen = [m for m, r in self.roles.items() if r == role]
        ordered: list[type[models.Model]] = []

        def visit(model: type[models.Model], seen: frozenset[Any]) -> None:
            if model in ordered or model in seen:
                return
            for target in _references(model, through=False):
                if target in chosen and target is not model:
                    visit(target, seen | {model})
            ordered.append(model)

        for model in sorted(chosen, key=lambda m: m._meta.db_table):
            visit(model, frozenset())
        return ordered

    def citus_steps(self, connection: Any = None) -> list[Step]:
        """The whole conversion of a single-node database to Citus, in the order that works
        (``docs/SCALING.md``), each step saying who runs it. Foreign key names come from
        Django's schema editor (the models), or from the catalogue of ``connection`` when it
        is PostgreSQL (which also holds the keys migrations added outside the models)."""
        return _steps(self, connection)

    def citus_sql(self, connection: Any = None) -> list[str]:
        """Every statement of :meth:`citus_steps`, in order."""
        return [s for step in self.citus_steps(connection) for s in step.statements]

    def citus_script(self, connection: Any = None) -> str:
        """:meth:`citus_steps` as one SQL script, each step headed by comments."""
        lines = ["-- Distributing the tenant tables on Citus (manage.py distribution_plan --sql).",
                 "-- Step by step: step 1 as a superuser on the nodes it names, the others on",
                 "-- the coordinator as the owner of the tables (the role that ran migrate)."]
        for number, step in enumerate(self.citus_steps(connection), 1):
            lines.append("")
            lines += [f"-- {number}. {step.title}"] + [f"--    {note}" for note in step.notes]
            lines += step.statements
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Step:
    """One group of statements of the Citus conversion, and who must run it."""

    title: str
    statements: list[str]
    notes: list[str] = field(default_factory=list)
    citus: bool = False  # needs Citus (plain PostgreSQL lacks its functions)


@dataclass(frozen=True)
class ForeignKey:
    """A foreign key constraint dropped before the conversion (and maybe added after)."""

    table: str
    name: str
    definition: str
    columns: tuple[str, ...]
    target: str

    def drop(self) -> str:
        return f"ALTER TABLE {self.table} DROP CONSTRAINT {self.name};"

    def add(self) -> str:
        return f"ALTER TABLE {self.table} ADD CONSTRAINT {self.name} {self.definition};"


AUTO_FIELDS = ("AutoField", "BigAutoField", "SmallAutoField")


def _postgresql_schema_editor(connection: Any) -> Any:
    """A PostgreSQL schema editor, for Django's constraint names and ``setval`` statements,
    without connecting (the plan reads the same on every database the suite runs on)."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    if connection is not None and connection.vendor == "postgresql":
        return connection.schema_editor(collect_sql=True)
    wrapper = DatabaseWrapper({**settings.DATABASES["default"],
                               "ENGINE": "django.db.backends.postgresql"}, alias="distribution")
    return wrapper.schema_editor(collect_sql=True)


def _model_foreign_keys(result: Plan, editor: Any) -> list[ForeignKey]:
    """Django's foreign keys into and out of the distributed tables, named as its schema
    editor names them (what ``migrate`` created)."""
    distributed = set(result.tables(DISTRIBUTED))
    found = []
    for model in sorted(result.roles, key=lambda m: m._meta.db_table):
        for f in model._meta.local_concrete_fields:
            target = f.related_model if f.is_relation and (f.many_to_one or f.one_to_one) else None
            if target is None or not getattr(f, "db_constraint", True):
                continue
            if model not in distributed and target not in distributed:
                continue
            name = str(editor._fk_constraint_name(model, f, "_fk_%(to_table)s_%(to_column)s"))
            to_field = f.target_field  # type: ignore[attr-defined]
            to_table, to_column = to_field.model._meta.db_table, to_field.column
            found.append(ForeignKey(
                model._meta.db_table, name.strip('"'),
                f"FOREIGN KEY ({f.column}) REFERENCES {to_table}({to_column}) "
                "DEFERRABLE INITIALLY DEFERRED", (str(f.column),), to_table))
    return sorted(found, key=lambda k: (k.table, k.name))  # as the catalogue lists them


def _catalogue_foreign_keys(connection: Any, tables: list[str]) -> list[ForeignKey]:
    """Every foreign key into or out of ``tables`` in the live database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), "
            "c.confrelid::regclass::text, ARRAY(SELECT a.attname FROM unnest(c.conkey) k "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k) "
            "FROM pg_constraint c WHERE c.contype = 'f' AND (c.conrelid::regclass::text = ANY(%s) "
            "OR c.confrelid::regclass::text = ANY(%s)) ORDER BY 1, 2", [tables, tables])
        return [ForeignKey(table, name, definition, tuple(columns), target)
                for table, name, definition, target, columns in cursor.fetchall()]


def _foreign_keys(result: Plan, connection: Any, editor: Any
                  ) -> tuple[list[ForeignKey], list[ForeignKey]]:
    """(the keys to drop before the conversion, the keys to add after it).

    A key between two distributed tables cannot stay on the referenced ``id`` alone (that is
    no longer unique once the primary key is (tenant column, id), and Citus wants the
    distribution column in it): it comes back as (tenant column, column) -> (tenant column,
    id), unless such a key exists already. The others come back as they were."""
    tables = [m._meta.db_table for m in result.tables(DISTRIBUTED)]
    column = f"{result.column}_id"
    if connection is not None and connection.vendor == "postgresql":
        dropped = _catalogue_foreign_keys(connection, tables)
    else:
        dropped = _model_foreign_keys(result, editor)
    added = [k for k in dropped if not (k.target in tables and len(k.columns) == 1)]
    composite = {(k.table, k.columns, k.target) for k in added}
    for key in dropped:
        columns = (column, key.columns[0])
        if key.target not in tables or len(key.columns) != 1 or (
                key.table, columns, key.target) in composite:
            continue
        name = editor._create_index_name(key.table, list(columns), suffix="_same_account")
        added.append(ForeignKey(
            key.table, name, f"FOREIGN KEY ({', '.join(columns)}) REFERENCES {key.target}"
            f"({column}, id) DEFERRABLE INITIALLY DEFERRED", columns, key.target))
    return dropped, added


def _steps(result: Plan, connection: Any) -> list[Step]:
    from django.core.management.color import no_style

    from .wall_policy import migrated_walls, policy_sql, shared_owner_column

    editor = _postgresql_schema_editor(connection)
    reference = result.tables(REFERENCE)
    distributed = result.tables(DISTRIBUTED)
    column = f"{result.column}_id"
    walled = sorted((m for m in result.roles if m is not result.tenant_model
                     and _tenant_field(m, result.tenant_model, result.column) is not None),
                    key=lambda m: m._meta.db_table)
    dropped, added = _foreign_keys(result, connection, editor)
    counted = [m for m in reference + distributed if m._meta.pk.get_internal_type() in AUTO_FIELDS]
    walls = migrated_walls()

    def sequence(model: type[models.Model]) -> list[str]:
        table, pk = model._meta.db_table, model._meta.pk.column
        return [f"ALTER TABLE {table} ALTER COLUMN {pk} DROP IDENTITY;",
                f"CREATE SEQUENCE {table}_{pk}_seq AS bigint OWNED BY {table}.{pk};",
                f"ALTER TABLE {table} ALTER COLUMN {pk} SET DEFAULT nextval('{table}_{pk}_seq');"]

    def policies(model: type[models.Model]) -> list[str]:
        op = walls.get((model._meta.app_label, model._meta.model_name or ""))
        owner = op.shared_owner_column if op is not None else shared_owner_column(model)
        return [s + ";" for s in policy_sql(model._meta.db_table, owner)]

    return [
        Step("Node set-up: needs a superuser, on the nodes named (the owner cannot).", [
            "CREATE EXTENSION IF NOT EXISTS citus;",
            "SELECT citus_set_coordinator_host('<coordinator host>', 5432);",
            "SELECT citus_add_node('<worker host>', 5432);",
        ], [
            "On every node (the coordinator and each worker): create the database (same name)",
            "and the app's role (same name, LOGIN), then CREATE EXTENSION citus in the database.",
            "On the coordinator only: citus_set_coordinator_host (local tables may then keep",
            "their foreign keys to reference tables), and citus_add_node once per worker.",
            "Then restore the single-node database on the coordinator; the next steps run",
            "there, as the tables' owner.",
        ], citus=True),
        Step("Row-level security relaxed while Citus copies the rows (owner).",
             [f"ALTER TABLE {m._meta.db_table} NO FORCE ROW LEVEL SECURITY;" for m in walled], [
                 "FORCE binds the owner too, and row-level security refuses the COPY with which",
                 "Citus moves rows into shards. Forced again in the last step.",
             ]),
        Step("Foreign keys into and out of the tenant tables dropped (owner).",
             [k.drop() for k in dropped], [
                 "A tenant table with a foreign key to a table made a reference table silently",
                 "becomes a Citus local table, which then cannot be distributed. They are",
                 "added back in step 10.",
             ]),
        Step("Reference tables, each after the tables it references (owner).",
             [f"SELECT create_reference_table('{m._meta.db_table}');" for m in reference],
             citus=True),
        Step(f"Primary keys become ({column}, id), each change a statement of its own (owner).",
             [s for m in distributed for s in (
                 f"ALTER TABLE {m._meta.db_table} DROP CONSTRAINT {m._meta.db_table}_pkey;",
                 f"ALTER TABLE {m._meta.db_table} ADD PRIMARY KEY ({column}, {m._meta.pk.column});")],
             [
                 "Citus wants the distribution column in every unique constraint, and refuses",
                 "ADD CONSTRAINT together with other subcommands.",
             ]),
        Step("Identity columns become sequence defaults (owner).",
             [s for m in distributed if m._meta.pk.get_internal_type() in AUTO_FIELDS
              for s in sequence(m)], [
                 "Citus refuses to distribute a table with an identity column, and Django's",
                 "BigAutoField is GENERATED BY DEFAULT AS IDENTITY. DROP IDENTITY drops the",
                 "column's sequence; a sequence owned by the column replaces it (set in step 9).",
             ]),
        Step(f"Tenant tables distributed by {column}, co-located, each after the tables it "
             "references (owner).",
             ["SET citus.enable_unsafe_triggers = on;"]
             + [f"SELECT create_distributed_table('{m._meta.db_table}', '{column}'"
                + (f", colocate_with => '{distributed[0]._meta.db_table}'" if i else "") + ");"
                for i, m in enumerate(distributed)], [
                 "citus.enable_unsafe_triggers: the audit table's append-only triggers would",
                 "otherwise stop its distribution.",
             ], citus=True),
        Step("The rows copied into the shards removed from the coordinator's tables (owner).",
             [f"SELECT truncate_local_data_after_distributing_table('{m._meta.db_table}');"
              for m in distributed], [
                 "If a table's trigger refuses TRUNCATE (the audit table's), its local copy",
                 "stays: unused, it only costs disk.",
             ], citus=True),
        Step("Id counters continue after the largest id (owner).",
             list(editor.connection.ops.sequence_reset_sql(no_style(), counted)), [
                 "After distributing, identity counters restarted at 1 (a duplicate key on the",
                 "next insert); Django's own sqlsequencereset statements.",
             ]),
        Step("Foreign keys added back (owner).", [k.add() for k in added], [
            f"A key between two tenant tables carries {column}, as Citus requires",
            "(deferrable keys are accepted).",
        ]),
        Step("Row-level security (the database wall) forced again, policies re-created (owner).",
             [s for m in walled for s in policies(m)]),
    ]


def tenant_model() -> type[models.Model]:
    return apps.get_model(settings.TENANCY_TENANT_MODEL)


def _tenant_field(model: type[models.Model], tenant: type[models.Model],
                  name: str) -> models.Field | None:
    try:
        found = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None
    if (found.many_to_one or found.one_to_one) and found.concrete and found.related_model is tenant:
        return found  # type: ignore[return-value]
    return None


def _references(model: type[models.Model], through: bool = True) -> list[type[models.Model]]:
    """Models this one's foreign keys point at (and its many-to-many through tables, which
    point back at it, unless ``through`` is false)."""
    targets = []
    for f in model._meta.get_fields(include_hidden=True):
        if f.auto_created and not f.concrete:
            continue  # a reverse relation
        if f.is_relation and (f.many_to_one or f.one_to_one) and f.related_model:
            targets.append(f.related_model)
        elif f.many_to_many and through:
            model_through = getattr(f.remote_field, "through", None)
            if isinstance(model_through, type):
                targets.append(model_through)
    return targets


def _columns(constraint: Any) -> set[str]:
    """Field names a unique constraint covers (plain fields and ``F()`` expressions)."""
    names = set(getattr(constraint, "fields", ()) or ())
    for expression in getattr(constraint, "expressions", ()) or ():
        stack = [expression]
        while stack:
            node = stack.pop()
            if isinstance(node, F):
                names.add(str(node.deconstruct()[1][0]))
            stack.extend(node.get_source_expressions() if hasattr(node, "get_source_expressions")
                         else [])
    return names


def _covers(model: type[models.Model], names: Iterable[str], column: str) -> bool:
    """Whether ``names`` include the tenant column (by field name or attname)."""
    attnames = {column, f"{column}_id"}
    for name in names:
        try:
            if model._meta.get_field(name).name in attnames:
                return True
        except FieldDoesNotExist:  # an attname like account_id
            if name in attnames:
                return True
    return False


def _unique_sets(model: type[models.Model]) -> list[tuple[str, set[str]]]:
    """(name, field names) of every unique field, unique_together and UniqueConstraint."""
    found = [(f"unique field '{f.name}'", {f.name}) for f in model._meta.local_concrete_fields
             if f.unique and not f.primary_key]
    found += [(f"unique_together {tuple(names)}", set(names))
              for names in model._meta.unique_together]
    found += [(f"constraint '{c.name}'", _columns(c)) for c in model._meta.constraints
              if isinstance(c, models.UniqueConstraint)]
    return found


def _concrete(candidates: Iterable[type[models.Model]] | None) -> list[type[models.Model]]:
    return [m for m in (apps.get_models(include_auto_created=True) if candidates is None
                        else candidates)
            if m._meta.managed and not m._meta.proxy and not m._meta.abstract]


def tenant_owned_models(candidates: Iterable[type[models.Model]] | None = None
                        ) -> list[type[models.Model]]:
    """The tenant-owned models (a foreign key ``TENANCY_TENANT_FIELD`` to the tenant), by
    label: what the plan distributes (or keeps as declared reference tables) and what an
    account's export holds, so the two lists cannot drift apart."""
    tenant = tenant_model()
    column = settings.TENANCY_TENANT_FIELD
    return sorted((m for m in _concrete(candidates) if _tenant_field(m, tenant, column) is not None),
                  key=lambda m: m._meta.label)


def plan(candidates: Iterable[type[models.Model]] | None = None) -> Plan:
    """Classify ``candidates`` (default: every installed model) and find the violations."""
    tenant = tenant_model()
    column = settings.TENANCY_TENANT_FIELD
    chosen = _concrete(candidates)
    result = Plan(tenant, column)
    owned = set(tenant_owned_models(chosen))
    for model in owned:
        reason = getattr(model, "distribution_reference_reason", "")
        result.roles[model] = REFERENCE if reason else DISTRIBUTED
        if reason:
            result.reasons[model] = reason
    result.roles[tenant] = REFERENCE
    result.reasons[tenant] = TENANT_TABLE_REASON
    distributed = {m for m, r in result.roles.items() if r == DISTRIBUTED}

    # reference tables: whatever distributed or reference tables point at, transitively
    queue = list(result.roles)
    while queue:
        source = queue.pop()
        for target in _references(source):
            if target not in result.roles:
                result.roles[target] = REFERENCE
                result.reasons[target] = f"referenced by {source._meta.label}"
                queue.append(target)
    for model in chosen:
        result.roles.setdefault(model, LOCAL)

    for model in sorted(result.roles, key=lambda m: m._meta.label):
        result.violations += _violations(model, result.roles[model], distributed, column)
    return result


def _violations(model: type[models.Model], role: str, distributed: set[type[models.Model]],
                column: str) -> list[Violation]:
    found: list[Violation] = []
    if role == DISTRIBUTED:
        for name, names in _unique_sets(model):
            if not _covers(model, names, column):
                found.append(Violation(
                    model, name, f"unique without {column}_id: a table distributed by "
                    f"{column}_id can only enforce uniqueness that includes it (add '{column}' "
                    "to it, or give the model distribution_reference_reason)", "tenancy.W101"))
    for f in model._meta.get_fields(include_hidden=True):
        target = f.related_model if f.is_relation and not f.auto_created else None
        if target not in distributed:
            continue
        if f.many_to_many:
            found.append(Violation(
                model, f"many-to-many '{f.name}'", f"its through table has no {column}_id; "
                f"use an explicit through model with a '{column}' foreign key", "tenancy.W102"))
        elif f.many_to_one or f.one_to_one:
            if role != DISTRIBUTED:
                found.append(Violation(
                    model, f"foreign key '{f.name}'", f"references the distributed table "
                    f"{target._meta.label} but this table has no {column}_id to join on "
                    f"(add a '{column}' foreign key to the tenant)", "tenancy.W103"))
            elif not _unique_on_tenant_and_pk(target, column):
                found.append(Violation(
                    model, f"foreign key '{f.name}'", f"cannot carry {column}_id: "
                    f"{target._meta.label} has no unique constraint on ({column}, "
                    f"{target._meta.pk.name})", "tenancy.W104"))
    return found


def _unique_on_tenant_and_pk(model: type[models.Model], column: str) -> bool:
    pk = model._meta.pk.name
    return any(isinstance(c, models.UniqueConstraint) and c.condition is None
               and set(c.fields) in ({column, pk}, {f"{column}_id", pk})
               for c in model._meta.constraints)


def warnings_for(result: Plan) -> list[checks.CheckMessage]:
    """One check warning per violation, naming the model (``obj``) and the field or
    constraint."""
    return [checks.Warning(f"{v.constraint}: {v.message}", obj=v.model, id=v.id)
            for v in result.violations]


def check_distribution(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """System check (tag ``distribution``) over every installed model. CI fails on its
    warnings (``check --tag distribution --fail-level WARNING``); they do not stop
    ``migrate``."""
    return warnings_for(plan())
