"""Writing audit events: the actor and origin come from :mod:`tenancy.operation`.

``record()`` writes one event now, in the caller's transaction (an event of a change that
rolls back rolls back with it). ``suppressed()`` silences the model signals for a block
(used by the account purge, which records one platform event instead of one per row).
``action_as()`` names the generic event of the next change of a target (e.g. ``closed``
instead of ``updated`` for the account-closure save) so that change still yields one event.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from tenancy.operation import current_operation

from .models import AuditEvent

logger = logging.getLogger(__name__)
_suppressed: ContextVar[bool] = ContextVar("audit_suppressed", default=False)
_action_names: ContextVar[dict[tuple[str, str], str] | None] = ContextVar(
    "audit_action_names", default=None
)


def is_suppressed() -> bool:
    return _suppressed.get()


@contextmanager
def suppressed() -> Iterator[None]:
    """No events from model signals inside the block."""
    token = _suppressed.set(True)
    try:
        yield
    finally:
        _suppressed.reset(token)


def kind_of(model: Any) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


@contextmanager
def action_as(instance: Any, action: str) -> Iterator[None]:
    """Inside the block, a change of ``instance`` is recorded under ``action``."""
    names = dict(_action_names.get() or {})
    names[(kind_of(type(instance)), str(instance.pk))] = action
    token = _action_names.set(names)
    try:
        yield
    finally:
        _action_names.reset(token)


def action_name(kind: str, target_id: str, default: str) -> str:
    return (_action_names.get() or {}).get((kind, target_id), default)


def _actor() -> dict[str, Any]:
    """Actor and origin fields of the current operation (system when there is none)."""
    op = current_operation()
    if op is None:
        return {"source": "system"}
    fields: dict[str, Any] = {
        "source": op.source, "source_label": op.label[:100],
        "request_id": op.request_id[:64], "client_ip": op.address() or None,
    }
    user = getattr(op.request, "user", None) if op.request is not None else None
    if user is not None and getattr(user, "is_authenticated", False):
        fields.update(actor_user_id=user.pk, actor_username=user.get_username()[:150])
    elif op.user_id is not None:
        from django.contrib.auth import get_user_model

        username = (
            get_user_model().objects.filter(pk=op.user_id).values_list("username", flat=True).first()
        )
        fields.update(actor_user_id=op.user_id, actor_username=(username or "")[:150])
    key = getattr(op.request, "auth", None) if op.request is not None else None
    if key is not None and hasattr(key, "prefix"):
        fields.update(actor_api_key_id=key.pk, actor_api_key_prefix=key.prefix)
    return fields


def record(
    action: str,
    *,
    account_id: int | None,
    target_kind: str,
    target_id: Any = "",
    target_repr: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Write one event for the current operation's actor."""
    return AuditEvent.objects.create(
        account_id=account_id, action=action, target_kind=target_kind,
        target_id=str(target_id)[:64], target_repr=str(target_repr)[:200],
        changes=changes or {}, **_actor(),
    )
