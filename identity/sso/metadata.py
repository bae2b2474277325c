"""What an identity provider publishes, fetched through :mod:`tenancy.egress` and checked: an
OIDC discovery document (its ``issuer`` must be the configured issuer, OIDC Discovery 1.0 §4.3)
with its JWKS, or SAML IdP metadata. Done when the provider is saved ("Test connection"), by
the refresh task, and for an unknown signing key (:func:`refetch_jwks`); never on the start of
a sign-in, which reads the stored copy."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from tenancy import egress
from tenancy.cache import invalidate_with_commit

from .cache_keys import providers_key
from .models import IdentityProvider

logger = logging.getLogger(__name__)

DISCOVERY_PATH = "/.well-known/openid-configuration"
REQUIRED_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")
#: A JWKS refetch for an unknown key id, at most once per provider in this many seconds.
JWKS_REFETCH_INTERVAL = 60
SAML_METADATA_MAX_BYTES = 1024 * 1024


class ProviderCheckFailed(Exception):
    """The provider's published configuration could not be fetched or is wrong (the message is
    for the account admin)."""


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + DISCOVERY_PATH


def fetch_jwks(url: str) -> dict[str, Any]:
    """The provider's signing keys, each parseable by PyJWT."""
    import jwt

    try:
        data = egress.get_json(url)
    except egress.EgressRefused as exc:
        raise ProviderCheckFailed(f"Signing keys (JWKS): {exc}") from None
    try:
        keys = jwt.PyJWKSet.from_dict(data)
    except (jwt.PyJWKSetError, jwt.InvalidKeyError, TypeError, ValueError):
        raise ProviderCheckFailed(f"{url[:200]} is not a JSON Web Key Set with a usable key.") from None
    if not keys.keys:
        raise ProviderCheckFailed(f"{url[:200]} lists no signing key.")
    return data


def fetch_oidc(issuer: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The discovery document and JWKS of ``issuer``, checked."""
    try:
        document = egress.get_json(discovery_url(issuer))
    except egress.EgressRefused as exc:
        raise ProviderCheckFailed(f"Discovery document: {exc}") from None
    published = document.get("issuer")
    if published != issuer:
        raise ProviderCheckFailed(
            f"The discovery document names the issuer {str(published)[:200]!r}, not {issuer!r}: "
            "the issuer must be exactly the one the provider publishes.")
    for key in REQUIRED_ENDPOINTS:
        value = document.get(key)
        if not isinstance(value, str) or not value:
            raise ProviderCheckFailed(f"The discovery document has no {key}.")
        try:
            egress.check_destination(value)
        except egress.EgressRefused as exc:
            raise ProviderCheckFailed(f"The discovery document's {key}: {exc}") from None
    userinfo = document.get("userinfo_endpoint")
    if userinfo is not None:
        if not isinstance(userinfo, str):
            raise ProviderCheckFailed("The discovery document's userinfo_endpoint is not a URL.")
        try:
            egress.check_destination(userinfo)
        except egress.EgressRefused as exc:
            raise ProviderCheckFailed(f"The discovery document's userinfo_endpoint: {exc}") from None
    return document, fetch_jwks(document["jwks_uri"])


def fetch_saml_metadata(url: str, entity_id: str | None) -> dict[str, str]:
    """Entity ID, SSO URL and signing certificate from the IdP's metadata at ``url``."""
    try:
        xml = egress.get(url, max_bytes=SAML_METADATA_MAX_BYTES).text
    except egress.EgressRefused as exc:
        raise ProviderCheckFailed(f"IdP metadata: {exc}") from None
    return parse_saml_metadata(xml, entity_id)


def parse_saml_metadata(xml: str, entity_id: str | None) -> dict[str, str]:
    """Entity ID, SSO URL (HTTP-Redirect) and signing certificate from an IdP's metadata."""
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    try:
        idp = OneLogin_Saml2_IdPMetadataParser.parse(xml, entity_id=entity_id).get("idp") or {}
    except Exception:  # noqa: BLE001 - any parse failure is the admin's input
        raise ProviderCheckFailed("Not IdP metadata XML.") from None
    certs = idp.get("x509certMulti", {}).get("signing") or [idp.get("x509cert", "")]
    found = {"idp_entity_id": idp.get("entityId", ""),
             "idp_sso_url": idp.get("singleSignOnService", {}).get("url", ""),
             "idp_x509cert": certs[0] if certs else ""}
    if not all(found.values()):
        raise ProviderCheckFailed("The metadata lacks the IdP's entity ID, SSO URL or certificate.")
    return found


def check(provider: IdentityProvider) -> None:
    """Fetch and check what ``provider`` publishes and store it on the row (not saved); raises
    :class:`ProviderCheckFailed`. A SAML IdP given by certificate has nothing to fetch."""
    if provider.kind == provider.OIDC:
        provider.oidc_discovery, provider.oidc_jwks = fetch_oidc(provider.issuer)
    elif provider.idp_metadata_url:
        found = fetch_saml_metadata(provider.idp_metadata_url, provider.idp_entity_id or None)
        provider.idp_entity_id = found["idp_entity_id"]
        provider.idp_sso_url = found["idp_sso_url"]
        provider.idp_x509cert = found["idp_x509cert"]
    provider.metadata_checked_at = timezone.now()
    provider.metadata_error = ""


def refresh(provider: IdentityProvider) -> str:
    """Fetch again and save; on failure keep the last good copy and record why. Returns the
    error ("" when it worked)."""
    fields = ["oidc_discovery", "oidc_jwks", "idp_entity_id", "idp_sso_url", "idp_x509cert",
              "metadata_checked_at", "metadata_error", "updated_at"]
    try:
        check(provider)
    except ProviderCheckFailed as exc:
        provider.metadata_error = str(exc)[:500]
        provider.save(update_fields=["metadata_error", "updated_at"])
        logger.warning("sso metadata refresh failed for %s: %s", provider.slug, exc)
        return provider.metadata_error
    provider.save(update_fields=fields)
    return ""


def refetch_jwks(provider_pk: int) -> dict[str, Any] | None:
    """The provider's keys fetched again (a key id the stored set lacks: the IdP rotated its
    keys), stored on the row; at most once per :data:`JWKS_REFETCH_INTERVAL` per provider
    (``None`` when refused or failed), so forged key ids cannot make the server fetch at will."""
    if not cache.add(f"sso:jwks-refetch:{int(provider_pk)}", 1, JWKS_REFETCH_INTERVAL):
        return None
    provider = IdentityProvider.objects.filter(pk=provider_pk, kind=IdentityProvider.OIDC).first()
    if provider is None or not provider.oidc_discovery.get("jwks_uri"):
        return None
    try:
        jwks = fetch_jwks(provider.oidc_discovery["jwks_uri"])
    except ProviderCheckFailed as exc:
        logger.warning("sso jwks refetch failed for %s: %s", provider.slug, exc)
        return None
    IdentityProvider.objects.filter(pk=provider.pk).update(oidc_jwks=jwks, updated_at=timezone.now())
    invalidate_with_commit(providers_key(provider.account_id))
    return jwks
