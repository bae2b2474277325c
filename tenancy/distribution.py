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
