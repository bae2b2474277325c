"""``manage.py refresh_sso_metadata``: enqueue a refresh of every identity provider's published
configuration (OIDC discovery and keys, SAML metadata by URL)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from identity.sso.models import IdentityProvider
from identity.sso.tasks import refresh_provider_metadata
from tenancy.commands import PlatformCommand
from tenancy.wall import platform_mode


class Command(PlatformCommand):
    help = "Enqueue a refresh of every identity provider's discovery document, keys or metadata."

    def handle(self, *args: Any, **options: Any) -> None:
        with platform_mode("refresh_sso_metadata"):
            rows = list(IdentityProvider.objects.filter(
                Q(kind=IdentityProvider.OIDC) | ~Q(idp_metadata_url="")).values_list("account_id", "pk"))
        for account_id, pk in rows:
            refresh_provider_metadata.enqueue(account_id, pk)
        self.stdout.write(f"{len(rows)} provider refresh(es) enqueued")
