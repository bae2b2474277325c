"""Model signals that turn every ORM change of a registered model into one audit event.

Registered: the models whose tenant registration says ``audit=True`` (``tenancy.register``).
``pre_save`` reads the stored row (one query) to know the old values; ``post_save`` and
``post_delete`` write the event with the changed fields ``old -> new``.

What counts as *one change* (one event):

* a save that changes nothing (every compared field equal) writes no event;
* rows written by a registered model's own ``save()`` as its side effect (the contact a new
  member gets) belong to that change: no separate event;
* rows deleted by cascade belong to the deletion that caused them: the root's event lists
  how many of each kind went with it (``changes["cascade"]``), no event per row.

Fields whose names contain ``hash``, ``password``, ``secret`` or ``token`` are never
recorded; timestamps that change on every save (``updated_at``) are not compared, nor the
fields its registration lists in ``audit_ignored_fields``.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import uuid
from collections import Counter
from contextvars import ContextVar
from typing import Any

from django.db import models, router, transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save

from accounts.models import Account
from tenancy.operation import current_operation
from tenancy.registry import options as tenant_options
from tenancy.registry import registry as tenant_registry

from .recorder import action_name, is_suppressed, kind_of, record

SECRET_MARKERS = ("hash", "password", "secret", "token")
IGNORED_FIELDS = {"updated_at", "created_at", "last_used_at", "last_login", "last_sign_in_at"}
_saving: ContextVar[tuple[Any, ...]] = ContextVar("audit_saving", default=())
_cascades: ContextVar[dict[tuple[str, Any], Counter[str]] | None] = ContextVar(
    "audit_cascades", default=None
)


def audited_fields(model: type[models.Model]) -> list[models.Field]:
    """Concrete, non-secret, compared fields of ``model`` (the key is the event's target id).

    A model may name bookkeeping fields that change without a change of substance (a
    domain's ``last_checked_at``, written by every DNS check) in the ``audit_ignored_fields``
    of its registration (``tenancy.register``)."""
    ignored = IGNORED_FIELDS | tenant_options(model).audit_ignored_fields
    return [
        f for f in model._meta.concrete_fields
        if f.name not in ignored and not f.primary_key
        and not any(m in f.name.lower() for m in SECRET_MARKERS)
    ]


def _json(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_json(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json(v) for k, v in value.items()}
    return str(value)


def _values(instance: models.Model, fields: list[models.Field]) -> dict[str, Any]:
    return {f.attname: _json(getattr(instance, f.attname)) for f in fields}


def _account_id(instance: models.Model) -> int | None:
    if isinstance(instance, Account):
        return instance.pk  # type: ignore[no-any-return]
    return getattr(instance, "account_id", None)


def _is_side_effect(instance: models.Model) -> bool:
    """Saved inside another registered row's save()."""
    return any(outer is not instance for outer in _saving.get())


def _on_pre_save(sender: Any, instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    instance._audit_old = None  # type: ignore[attr-defined]
    if raw or is_suppressed() or instance._state.adding or instance.pk is None:
        return
    fields = audited_fields(sender)
    update_fields = kwargs.get("update_fields")
    if update_fields is not None:
        fields = [f for f in fields if f.name in update_fields or f.attname in update_fields]
    old = sender._base_manager.filter(pk=instance.pk).values(*[f.attname for f in fields]).first()
    instance._audit_old = None if old is None else {k: _json(v) for k, v in old.items()}  # type: ignore[attr-defined]


def _on_post_save(sender: Any, instance: models.Model, created: bool, raw: bool = False,
                  **kwargs: Any) -> None:
    if raw or is_suppressed() or _is_side_effect(instance):
        return
    kind = kind_of(sender)
    if created:
        changes = {k: [None, v] for k, v in _values(instance, audited_fields(sender)).items()}
        default = "created"
    else:
        old = getattr(instance, "_audit_old", None) or {}
        new = _values(instance, audited_fields(sender))
        changes = {k: [old[k], new[k]] for k in old if old[k] != new.get(k)}
        if not changes:
            return  # nothing changed: not an event
        default = "updated"
    record(action_name(kind, str(instance.pk), default), account_id=_account_id(instance),
           target_kind=kind, target_id=instance.pk, target_repr=str(instance), changes=changes)


_registered: set[type[models.Model]] = set()


def _cascade_root(instance: models.Model, origin: Any) -> Any:
    """The registered row (or queryset) whose deletion removed ``instance`` by cascade, else None."""
    if origin is None or origin is instance:
        return None
    if isinstance(origin, models.Model):
        return origin if type(origin) in _registered else None
    model = getattr(origin, "model", None)
    return origin if model in _registered and model is not type(instance) else None


def _cascade_counts() -> dict[tuple[str, Any], Counter[str]]:
    """Cascade counters of the current operation (or of this context outside one)."""
    op = current_operation()
    if op is not None:
        return op.state.setdefault("audit_cascades", {})  # type: ignore[no-any-return]
    cascades = _cascades.get()
    if cascades is None:
        cascades = {}
        _cascades.set(cascades)
    return cascades


def _on_pre_delete(sender: Any, instance: models.Model, origin: Any = None, **kwargs: Any) -> None:
    """Count rows deleted by cascade against their root row."""
    root = _cascade_root(instance, origin)
    if is_suppressed() or not isinstance(root, models.Model):
        return
    counts = _cascade_counts().setdefault((kind_of(type(root)), root.pk), Counter())
    counts[kind_of(sender)] += 1


def _on_post_delete(sender: Any, instance: models.Model, origin: Any = None, **kwargs: Any) -> None:
    if is_suppressed() or _cascade_root(instance, origin) is not None:
        return  # a cascade: part of the root's deletion
    kind = kind_of(sender)
    changes: dict[str, Any] = {
        k: [v, None] for k, v in _values(instance, audited_fields(sender)).items()
    }
    cascade = _cascade_counts().pop((kind, instance.pk), None)
    if cascade:
        changes["cascade"] = dict(sorted(cascade.items()))
    # The account's own deletion: its events go with it, so this one is platform-level.
    account_id = None if isinstance(instance, Account) else _account_id(instance)
    record(action_name(kind, str(instance.pk), "deleted"), account_id=account_id,
           target_kind=kind, target_id=instance.pk, target_repr=str(instance), changes=changes)


def _mark_saving(model: type[models.Model]) -> None:
    """Wrap ``model.save``: one transaction for the row, its side effects and its event (also
    in autocommit mode), and rows saved inside it are known to be its side effects.
    (Deletions need no wrapper: Django's collector already sends post_delete in its transaction.)"""
    if getattr(model.__dict__.get("save"), "_audit_marks", False):
        return
    original = model.save

    @functools.wraps(original)
    def save(self: models.Model, *args: Any, **kwargs: Any) -> None:
        token = _saving.set((*_saving.get(), self))
        try:
            using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
            if transaction.get_connection(using).in_atomic_block:
                original(self, *args, **kwargs)  # already one transaction with its event
            else:
                with transaction.atomic(using=using):
                    original(self, *args, **kwargs)
        finally:
            _saving.reset(token)

    save._audit_marks = True  # type: ignore[attr-defined]
    model.save = save  # type: ignore[method-assign]


def register(model: type[models.Model]) -> None:
    """Audit every change of ``model`` (idempotent)."""
    uid = f"audit:{kind_of(model)}"
    _registered.add(model)
    _mark_saving(model)
    pre_save.connect(_on_pre_save, sender=model, dispatch_uid=uid)
    post_save.connect(_on_post_save, sender=model, dispatch_uid=uid)
    pre_delete.connect(_on_pre_delete, sender=model, dispatch_uid=uid)
    post_delete.connect(_on_post_delete, sender=model, dispatch_uid=uid)


def register_configured_models() -> list[type[models.Model]]:
    """Register the models whose tenant registration says ``audit=True``."""
    done = [entry.model for entry in tenant_registry.values() if entry.audit]
    for model in done:
        register(model)
    return done
