"""The audit log: one append-only row per change of a registered model (see signals.py).

Append-only is enforced three ways: ``save()`` refuses to change a stored event and
``delete()`` refuses outright; the manager's querysets refuse ``update()``/``delete()``; and the
database refuses any UPDATE of the table (a trigger, migration 0002). Rows leave the table
only by the retention purge (:meth:`AuditEventQuerySet.purge`) and with their account when
a closed account is purged (the foreign key cascades).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.db import models
from django.utils import timezone

import tenancy
from accounts.models import Account
from tenancy.operation import SOURCES
from tenancy.wall_scoping import TenantWallManager, TenantWallQuerySet

from .guard import purging


class AppendOnlyError(Exception):
    """An attempt to change or delete an audit event through the ORM."""


class AuditEventQuerySet(TenantWallQuerySet):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AppendOnlyError("audit events are append-only; use purge() for retention")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    def purge(self) -> int:
        """Delete these events: only for the retention purge. Returns the number deleted."""
        with purging(self.db):
            return self._raw_delete(self.db)  # type: ignore[attr-defined,no-any-return]


class AuditEventManager(TenantWallManager.from_queryset(AuditEventQuerySet)):  # type: ignore[misc]
    """The tenant wall's manager (tenancy.wall_scoping) with the append-only queryset."""


class AuditEvent(models.Model):
    """Who did what to which row of which account, from where, and when."""

    ACTION_CREATED = "created"
    ACTION_UPDATED = "updated"
    ACTION_DELETED = "deleted"

    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, db_index=False,
        related_name="+",
        help_text="Empty for events of the whole platform, such as an account being deleted.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # The actor, copied (not a foreign key): the event outlives users and keys.
    actor_user_id = models.BigIntegerField(null=True, blank=True)
    actor_username = models.CharField(max_length=150, blank=True, default="")
    actor_api_key_id = models.BigIntegerField(null=True, blank=True)
    actor_api_key_prefix = models.CharField(max_length=16, blank=True, default="")
    source = models.CharField(
        max_length=16,
        help_text="Where it happened: " + ", ".join(SOURCES) + ".",
    )
    source_label = models.CharField(max_length=100, blank=True, default="",
                                    help_text="Which command or background job, if one did it.")
    action = models.CharField(max_length=64)
    target_kind = models.CharField(max_length=100, help_text="What kind of thing changed.")
    target_id = models.CharField(max_length=64, blank=True, default="")
    target_repr = models.CharField(max_length=200, blank=True, default="")
    changes = models.JSONField(default=dict, blank=True,
                               help_text="What changed, with the old and new values. Passwords and other "
                               "secrets are never recorded.")
    request_id = models.CharField(max_length=64, blank=True, default="")
    client_ip = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-created_at"], name="audit_event_account_time"),
            models.Index(fields=["created_at"], name="audit_event_time"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.target_kind}:{self.target_id} by {self.actor}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("audit events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("audit events are append-only")

    @property
    def actor(self) -> str:
        """A readable actor: user, key, or the command/task that made the change."""
        if self.actor_api_key_prefix:
            return f"{self.actor_username or '?'} (API key {self.actor_api_key_prefix})"
        if self.actor_username:
            return self.actor_username
        return f"{self.source}:{self.source_label}" if self.source_label else self.source


tenancy.register(AuditEvent, portability=tenancy.Portability(
    # an account's import remaps the actor and the target to the imported rows
    references={"actor_user_id": "auth.User", "actor_api_key_id": "accounts.ApiKey"},
    generic_references=(("target_kind", "target_id"),),
))
