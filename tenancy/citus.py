"""The conversion of a single-node database to Citus as one SQL script
(``manage.py distribution_plan --sql``, shown in ``docs/SCALING.md``): the plan of
:mod:`tenancy.distribution` (which tables are distributed, which are reference tables) turned
into statements, with the database wall's policies of :mod:`tenancy.wall_policy`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import models

from .distribution import DISTRIBUTED, REFERENCE, Plan, _tenant_field
from .wall_policy import migrated_walls, policy_sql, shared_owner_column


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


def citus_steps(result: Plan, connection: Any = None) -> list[Step]:
    """The whole conversion of a single-node database to Citus, in the order that works
    (``docs/SCALING.md``), each step saying who runs it. Foreign key names come from
    Django's schema editor (the models), or from the catalogue of ``connection`` when it
    is PostgreSQL (which also holds the keys migrations added outside the models)."""
    return _steps(result, connection)


def citus_sql(result: Plan, connection: Any = None) -> list[str]:
    """Every statement of :func:`citus_steps`, in order."""
    return [s for step in citus_steps(result, connection) for s in step.statements]


def citus_script(result: Plan, connection: Any = None) -> str:
    """:func:`citus_steps` as one SQL script, each step headed by comments."""
    lines = ["-- Distributing the tenant tables on Citus (manage.py distribution_plan --sql).",
             "-- Step by step: step 1 as a superuser on the nodes it names, the others on",
             "-- the coordinator as the owner of the tables (the role that ran migrate)."]
    for number, step in enumerate(citus_steps(result, connection), 1):
        lines.append("")
        lines += [f"-- {number}. {step.title}"] + [f"--    {note}" for note in step.notes]
        lines += step.statements
    return "\n".join(lines) + "\n"
