"""The provisioning tasks: one host of one tenant, and one removal the platform owes."""

from __future__ import annotations

from tenancy.tasks import platform_task, tenant_task

from . import provisioning
from .models import RouterDomain, RouterDomainRemoval


@tenant_task
def sync_router_domain(account_id: int, router_domain_id: int) -> str:
    """One provisioning step of the account's router domain; returns its state.

    Only a row recorded for ``account_id`` is touched (another tenant's id finds nothing)."""
    row = RouterDomain.objects.filter(account_id=account_id, pk=router_domain_id).first()
    if row is None:
        return "gone"
    provisioning.sync(row)
    return row.state


@platform_task
def remove_router_domain(removal_id: int) -> str:
    """Take a host no account records any more off the router (``done``/``kept``/``failed``)."""
    removal = RouterDomainRemoval.objects.filter(pk=removal_id).first()
    if removal is None:
        return "gone"
    return provisioning.remove(removal)
