"""When a host starts or stops needing the router.

* an account is created: its workspace wildcard ``*.NUMBER.ENV.api.ROOT``;
* a custom domain is saved verified: that domain;
* a custom domain is deleted: its router domain goes too;
* a router domain is deleted (that, or its account purged): its removal is owed.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import Account
from domains.models import Domain

from .models import RouterDomain
from .provisioning import queue_removal, want_host, workspace_wildcard


@receiver(post_save, sender=Account)
def account_created(sender: Any, instance: Account, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if created and not raw:
        want_host(instance.pk, workspace_wildcard(instance.account_number), RouterDomain.WORKSPACES)


@receiver(post_save, sender=Domain)
def domain_saved(sender: Any, instance: Domain, raw: bool = False, **kwargs: Any) -> None:
    if instance.status == Domain.VERIFIED and not raw:
        want_host(instance.account_id, instance.hostname, RouterDomain.CUSTOM)


@receiver(post_delete, sender=Domain)
def domain_deleted(sender: Any, instance: Domain, **kwargs: Any) -> None:
    """One by one, so each sends its own ``post_delete`` (below)."""
    for row in RouterDomain.objects.filter(account_id=instance.account_id, hostname=instance.hostname,
                                           kind=RouterDomain.CUSTOM):
        row.delete()


@receiver(post_delete, sender=RouterDomain)
def router_domain_deleted(sender: Any, instance: RouterDomain, **kwargs: Any) -> None:
    number = Account.objects.filter(pk=instance.account_id).values_list("account_number", flat=True).first()
    queue_removal(instance.hostname, instance.provider_id, number or "")
