"""What a model declares so that its rows can move between accounts and deployments.

The export/import of one account (``lifecycle``) is generic over the tenant tables: every
model the distribution check calls tenant-owned (:func:`tenancy.distribution.tenant_owned_models`)
is exported, and its foreign keys are remapped on import. A model says what the generic rules
cannot know with class attributes:

``portable_references``
    ``{attname: "app_label.Model"}``: plain integer columns that hold another row's key
    without a foreign key (an audit event's actor). Remapped on import; ``None`` when the
    referenced row was not imported.
``portable_generic_references``
    ``[(kind_attname, id_attname)]``: a "kind" column holding ``app_label.model`` and an id
    column (generic relations). The id is remapped when the kind names an imported model,
    blanked otherwise.
``portable_row(row, account_id)``
    a classmethod that adjusts one imported row (a dict of attnames) for the account it is
    imported into, or raises :class:`SkipRow` with the reason the row is left out.
``portable_deployment_state = True``
    the rows describe this deployment's handling of the account (the router's domains), not
    the account's content: exported for the record, never imported (the deployment records
    them anew for the account), and ignored when an import checks that an account is empty.
``portable_imported(account_id)``
    a classmethod called once after the model's rows were imported into the account (in the
    import's transaction). Rows are written in bulk without model signals, so this is where
    a model invalidates what caches may hold about the account (see ``tenancy.cache``).
"""

from __future__ import annotations

from typing import Any

from django.db import models


class SkipRow(Exception):
    """This row is not imported; the message says why (it is reported to the operator)."""


def declared_references(model: type[models.Model]) -> dict[str, str]:
    return dict(getattr(model, "portable_references", {}) or {})


def declared_generic_references(model: type[models.Model]) -> list[tuple[str, str]]:
    return [tuple(pair) for pair in getattr(model, "portable_generic_references", ()) or ()]  # type: ignore[misc]


def deployment_state(model: type[models.Model]) -> bool:
    """Whether the model's rows belong to the deployment rather than to the account's content."""
    return bool(getattr(model, "portable_deployment_state", False))


def adjust_row(model: type[models.Model], row: dict[str, Any], account_id: int) -> dict[str, Any]:
    """The row as ``model.portable_row`` adjusts it (unchanged without one); may raise SkipRow."""
    hook = getattr(model, "portable_row", None)
    return hook(row, account_id) if hook is not None else row


def imported(model: type[models.Model], account_id: int) -> None:
    """Run ``model.portable_imported(account_id)`` when the model has one."""
    hook = getattr(model, "portable_imported", None)
    if hook is not None:
        hook(account_id)
