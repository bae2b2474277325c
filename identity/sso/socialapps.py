"""allauth ``SocialApp`` values (never saved) built from an account's cached providers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import crypto
from .caching import ProviderConfig
from .models import scope_list

if TYPE_CHECKING:
    from allauth.socialaccount.models import SocialApp

#: Where SAML attributes are read from (allauth's defaults plus the plain names many IdPs send).
SAML_ATTRIBUTES = {
    "uid": ["urn:oasis:names:tc:SAML:attribute:subject-id"],
    "email": ["urn:oid:0.9.2342.19200300.100.1.3",
              "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress", "email", "mail"],
    "first_name": ["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname", "urn:oid:2.5.4.42",
                   "firstName", "given_name"],
    "last_name": ["urn:oid:2.5.4.4", "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
                  "lastName", "family_name"],
}


def _settings(config: ProviderConfig) -> dict[str, Any]:
    common = {"sso_provider_pk": config.pk, "sso_account_id": config.account_id}
    if config.kind == "oidc":
        # sso.oidc reads the stored discovery document and keys: nothing is fetched to start.
        return {**common, "server_url": config.issuer, "oauth_pkce_enabled": True,
                "scope": scope_list(config.scopes),
                "fetch_userinfo": bool(config.oidc_discovery.get("userinfo_endpoint"))}
    # The metadata URL's content was fetched and stored (sso.metadata): allauth never fetches it.
    idp: dict[str, Any] = {"entity_id": config.idp_entity_id, "sso_url": config.idp_sso_url,
                           "x509cert": config.idp_x509cert}
    # A response may carry the NameID only (no AttributeStatement, Google Workspace's default,
    # NameID format "unspecified"): the NameID is then the address, trusted as sign-in trusts
    # any address (a verified email domain of the account).
    return {**common, "idp": idp, "attribute_mapping": SAML_ATTRIBUTES, "use_nameid_for_email": True,
            "advanced": {"strict": True, "reject_idp_initiated_sso": True, "want_attribute_statement": False}}


def social_app(config: ProviderConfig) -> SocialApp:
    """The provider as allauth sees it: provider id (OIDC) and organisation slug (SAML) are
    the provider's per-account slug."""
    from allauth.socialaccount.models import SocialApp

    if config.kind == "oidc":
        return SocialApp(provider="openid_connect", provider_id=config.slug, name=config.name,
                         client_id=config.client_id, secret=crypto.decrypt(config.client_secret_encrypted),
                         settings=_settings(config))
    return SocialApp(provider="saml", provider_id=config.slug, name=config.name, client_id=config.slug,
                     settings=_settings(config))
