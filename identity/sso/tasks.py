"""Refresh what the account's identity providers publish (OIDC discovery and keys, SAML
metadata), so sign-in reads a current copy and never fetches it (``manage.py
refresh_sso_metadata`` enqueues one task per provider; run it from cron, e.g. hourly)."""

from __future__ import annotations

from tenancy.tasks import tenant_task

from . import metadata
from .models import IdentityProvider


@tenant_task
def refresh_provider_metadata(account_id: int, provider_pk: int) -> str:
    """Fetch and store again; a failure keeps the last good copy and is recorded on the row.
    Returns the error ("" on success)."""
    provider = IdentityProvider.objects.filter(account_id=account_id, pk=provider_pk).first()
    if provider is None or (provider.kind == IdentityProvider.SAML and not provider.idp_metadata_url):
        return ""
    return metadata.refresh(provider)
