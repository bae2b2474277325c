"""The one declaration of a tenant model: ``tenancy.register(Model, audit=..., portability=...)``.

Every model carrying the tenant foreign key (``account``), and the tenant model itself when it
is audited, is registered once, at the end of its own models module. The registration
says what the generic machinery cannot find out from the model's fields:

``audit``
    every ORM change of the model writes one audit event (``audit.signals``);
``audit_ignored_fields``
    bookkeeping fields that change without a change of substance (a domain's
    ``last_checked_at``): not compared, not recorded;
``portability``
    how its rows move between accounts and deployments (:class:`Portability`,
    read by ``tenancy.portability``);
``permission_owner_field``
    the field naming the member who owns a row (``"pk"`` for the member table itself): the
    permission querysets narrow by it and the database wall shares the platform's rows by it.

The system check (tag ``distribution``, ``tenancy.wall_policy.check_registrations``) reports a
tenant model that is not registered and a registered model that is not a tenant model; the
wall's own check (``tenancy.W110``) that every tenant table has its TenantWall migration.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models


@dataclass(frozen=True)
class Portability:
    """What an account's export and import need to know about a model's rows.

    ``references``: ``{attname: "app_label.Model"}``, plain integer columns holding another
    row's key without a foreign key (an audit event's actor); remapped on import, ``None``
    when the referenced row was not imported.
    ``generic_references``: ``[(kind_attname, id_attname)]``, a "kind" column holding
    ``app_label.model`` and an id column; the id is remapped when the kind names an imported
    model, blanked otherwise.
    ``adjust_row(row, account_id)``: adjusts one imported row (a dict of attnames) for the
    account it is imported into, or raises ``tenancy.portability.SkipRow`` with the reason.
    ``imported(account_id)``: called once after the model's rows were imported into the
    account (in the import's transaction); rows are written in bulk without model signals,
    so this is where caches about the account are invalidated.
    ``deployment_state``: the rows describe this deployment's handling of the account (the
    router's domains), not its content: exported for the record, never imported, and ignored
    when an import checks that an account is empty.
    """

    references: Mapping[str, str] = field(default_factory=dict)
    generic_references: tuple[tuple[str, str], ...] = ()
    adjust_row: Callable[[dict[str, Any], int], dict[str, Any]] | None = None
    imported: Callable[[int], None] | None = None
    deployment_state: bool = False


@dataclass(frozen=True)
class TenantModel:
    """One model's registration (see the module's docstring for each option)."""

    model: type[models.Model]
    audit: bool = False
    audit_ignored_fields: frozenset[str] = frozenset()
    portability: Portability = field(default_factory=Portability)
    permission_owner_field: str | None = None


_registry: dict[type[models.Model], TenantModel] = {}
registry: Mapping[type[models.Model], TenantModel] = MappingProxyType(_registry)


def register(
    model: type[models.Model], *, audit: bool = False, audit_ignored_fields: tuple[str, ...] = (),
    portability: Portability | None = None, permission_owner_field: str | None = None,
) -> TenantModel:
    """Declare ``model`` a tenant model with these options (once per model)."""
    if model in _registry:
        raise ImproperlyConfigured(f"{model._meta.label} is registered as a tenant model twice")
    entry = TenantModel(model=model, audit=audit, audit_ignored_fields=frozenset(audit_ignored_fields),
                        portability=portability or Portability(),
                        permission_owner_field=permission_owner_field)
    _registry[model] = entry
    return entry


def options(model: type[models.Model]) -> TenantModel:
    """The registration of ``model``; the defaults (nothing declared) when it has none."""
    return _registry.get(model) or TenantModel(model=model)
