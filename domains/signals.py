"""Invalidate cached domain routes whenever a domain, or a workspace one serves, changes;
release a removed domain's hostname claim.

Invalidated at once and again after commit, so another process can never reload and cache
the old rows between the invalidation and the commit.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from tenancy.cache import invalidate_with_commit
from workspaces.models import Workspace

from .cache_keys import bucket_key, canonical_key
from .models import Domain, HostnameClaim


@receiver(post_save, sender=Domain)
@receiver(post_delete, sender=Domain)
def domain_changed(sender: Any, instance: Domain, **kwargs: Any) -> None:
    invalidate_with_commit(bucket_key(instance.bucket), canonical_key(instance.account_id))


@receiver(post_delete, sender=Domain)
def release_claim(sender: Any, instance: Domain, **kwargs: Any) -> None:
    """The hostname is free again, in the deleting transaction (also for queryset and cascade
    deletes, which send this signal for every row)."""
    HostnameClaim.objects.filter(hostname=instance.hostname, account_id=instance.account_id).delete()


@receiver(post_save, sender=Workspace)
@receiver(pre_delete, sender=Workspace)
def workspace_changed(sender: Any, instance: Workspace, **kwargs: Any) -> None:
    """Routes carry the workspace's name; deleting it nulls the domains' link without signals."""
    rows = Domain.objects.filter(workspace_id=instance.pk).values_list("bucket", "account_id")
    keys = {k for bucket, account in rows for k in (bucket_key(bucket), canonical_key(account))}
    if keys:
        invalidate_with_commit(*sorted(keys))
