"""An account's identity providers as plain values, through the tenant cache (0 queries on a
warm sign-in page); :mod:`sso.signals` invalidates the key on every change."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tenancy.cache import tenant_cache

from .cache_keys import providers_key
from .models import IdentityProvider


@dataclass(frozen=True)
class ProviderConfig:
    """What sign-in needs of one provider (the secret still encrypted)."""

    pk: int
    account_id: int
    slug: str
    kind: str
    name: str
    issuer: str
    client_id: str
    client_secret_encrypted: str
    idp_entity_id: str
    idp_sso_url: str
    idp_x509cert: str
    idp_metadata_url: str
    default_role: str
    groups_attribute: str
    admin_group: str
    scopes: str = ""
    oidc_discovery: dict[str, Any] = field(default_factory=dict)
    oidc_jwks: dict[str, Any] = field(default_factory=dict)


def config_of(p: IdentityProvider) -> ProviderConfig:
    """The sign-in values of one ``IdentityProvider`` row."""
    return ProviderConfig(
        pk=p.pk, account_id=p.account_id, slug=p.slug, kind=p.kind, name=p.name, issuer=p.issuer,
        client_id=p.client_id, client_secret_encrypted=p.client_secret_encrypted,
        idp_entity_id=p.idp_entity_id, idp_sso_url=p.idp_sso_url, idp_x509cert=p.idp_x509cert,
        idp_metadata_url=p.idp_metadata_url, default_role=p.default_role,
        groups_attribute=p.groups_attribute, admin_group=p.admin_group, scopes=p.scopes,
        oidc_discovery=p.oidc_discovery or {}, oidc_jwks=p.oidc_jwks or {},
    )


def _load(account_id: int) -> tuple[ProviderConfig, ...]:
    rows = IdentityProvider.objects.filter(account_id=account_id, enabled=True).select_related("account")
    return tuple(config_of(p) for p in rows)


def account_providers(account_id: int | None) -> tuple[ProviderConfig, ...]:
    """The account's enabled providers (none for no account)."""
    if account_id is None:
        return ()
    return tenant_cache.get_or_load(providers_key(account_id), lambda: _load(account_id))


def provider_by_slug(account_id: int | None, slug: str) -> ProviderConfig | None:
    return next((p for p in account_providers(account_id) if p.slug == slug), None)
