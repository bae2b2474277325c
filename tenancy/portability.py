"""What the export and import of an account read about a model's rows.

The export/import of one account (``lifecycle``) is generic over the tenant tables: every
model the distribution check calls tenant-owned (:func:`tenancy.distribution.tenant_owned_models`)
is exported, and its foreign keys are remapped on import. What the generic rules cannot know a
model declares in its registration (``tenancy.register(Model, portability=Portability(...))``,
see :class:`tenancy.registry.Portability`); these functions read it.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from .registry import options


class SkipRow(Exception):
    """This row is not imported; the message says why (it is reported to the operator)."""


def declared_references(model: type[models.Model]) -> dict[str, str]:
    return dict(options(model).portability.references)


def declared_generic_references(model: type[models.Model]) -> list[tuple[str, str]]:
    return list(options(model).portability.generic_references)


def deployment_state(model: type[models.Model]) -> bool:
    """Whether the model's rows belong to the deployment rather than to the account's content."""
    return options(model).portability.deployment_state


def adjust_row(model: type[models.Model], row: dict[str, Any], account_id: int) -> dict[str, Any]:
    """The row as the model's ``adjust_row`` hook adjusts it (unchanged without one); may raise
    SkipRow."""
    hook = options(model).portability.adjust_row
    return hook(row, account_id) if hook is not None else row


def imported(model: type[models.Model], account_id: int) -> None:
    """Run the model's ``imported(account_id)`` hook when it has one."""
    hook = options(model).portability.imported
    if hook is not None:
        hook(account_id)
