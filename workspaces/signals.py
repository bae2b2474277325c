"""Invalidate the cached workspace lookup when a workspace changes."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from tenancy.cache import invalidate_with_commit

from .cache_keys import workspace_key, workspace_names_key
from .models import Workspace


@receiver(pre_save, sender=Workspace)
def remember_old_name(sender: Any, instance: Workspace, **kwargs: Any) -> None:
    if instance.pk is not None:
        instance._old_name = (  # type: ignore[attr-defined]
            Workspace.objects.filter(pk=instance.pk).values_list("name", flat=True).first()
        )


@receiver(post_save, sender=Workspace)
@receiver(post_delete, sender=Workspace)
def workspace_changed(sender: Any, instance: Workspace, **kwargs: Any) -> None:
    keys = {workspace_key(instance.account_id, instance.name)}
    old = getattr(instance, "_old_name", None)
    if old:
        keys.add(workspace_key(instance.account_id, old))
    if kwargs.get("created") or (old and old != instance.name):  # a new name now resolves
        keys.add(workspace_names_key(instance.account_id))
    invalidate_with_commit(*keys)
