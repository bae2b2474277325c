"""An account's identity provider (OIDC or SAML), served through allauth's socialaccount.

Each provider belongs to one account and is named on the platform by its ``slug``
(``acct-<account number>-<n>``): allauth's provider id (OIDC) and organisation slug (SAML),
so the social identities it creates (unique per provider id and subject) can never sign one
account's user into another, even when two accounts configure the same IdP entity.
The OIDC client secret is stored encrypted (:mod:`sso.crypto`) and never shown again.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

import tenancy
from accounts.models import Account, UserProfile
from tenancy.cache import invalidate_with_commit
from tenancy.wall_scoping import TenantWallManager

from . import crypto
from .cache_keys import providers_key

#: The scopes of an OIDC provider unless the admin sets others (``openid`` is always sent).
DEFAULT_SCOPES = "openid profile email"
DUPLICATE_NAME = "This account already has a provider named so: choose another name."


class IdentityProvider(models.Model):
    OIDC, SAML = "oidc", "saml"
    KIND_CHOICES = [(OIDC, "OpenID Connect"), (SAML, "SAML 2.0")]

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="identity_providers")
    number = models.PositiveIntegerField(editable=False, help_text="n in acct-<number>-<n>")
    kind = models.CharField(max_length=8, choices=KIND_CHOICES)
    name = models.CharField(max_length=80, help_text='Shown on the sign-in button: "Sign in with <name>"')
    enabled = models.BooleanField(default=True)
    # OpenID Connect
    issuer = models.URLField(blank=True, default="",
                             help_text="Issuer URL (its /.well-known/openid-configuration is read)")
    client_id = models.CharField(max_length=255, blank=True, default="")
    client_secret_encrypted = models.TextField(blank=True, default="", editable=False)
    scopes = models.CharField(max_length=500, blank=True, default=DEFAULT_SCOPES,
                              help_text='Requested scopes, space separated (add "groups" for Okta, '
                                        'Keycloak or Auth0 group claims)')
    # What the provider published, fetched (through tenancy.egress) and checked when it is saved
    # and by the refresh task: sign-in reads these and never fetches discovery or metadata.
    oidc_discovery = models.JSONField(default=dict, blank=True, editable=False)
    oidc_jwks = models.JSONField(default=dict, blank=True, editable=False)
    metadata_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    metadata_error = models.CharField(max_length=500, blank=True, default="", editable=False,
                                      help_text="Why the last fetch of discovery or metadata failed")
    # The last test sign-in the admin ran through the real IdP (:mod:`sso.testsignin`): a provider
    # is enabled only after one succeeded.
    test_signed_in_at = models.DateTimeField(null=True, blank=True, editable=False)
    # SAML
    idp_entity_id = models.CharField(max_length=1024, blank=True, default="")
    idp_sso_url = models.URLField(max_length=1024, blank=True, default="")
    idp_x509cert = models.TextField(blank=True, default="")
    idp_metadata_url = models.URLField(max_length=1024, blank=True, default="")
    # Members created by a first sign-in
    default_role = models.CharField(max_length=16, choices=UserProfile.ROLE_CHOICES,
                                    default=UserProfile.ROLE_MEMBER)
    groups_attribute = models.CharField(max_length=255, blank=True, default="groups",
                                        help_text="The claim/attribute listing the person's groups")
    admin_group = models.CharField(max_length=255, blank=True, default="",
                                   help_text="Members of this IdP group become account admins")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantWallManager()

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["account", "number"], name="sso_provider_number_per_account"),
            # one "Sign in with <name>" button per name (any case) on the account's sign-in page
            models.UniqueConstraint("account", Lower("name"), name="sso_provider_name_per_account",
                                    violation_error_message=DUPLICATE_NAME),
            models.CheckConstraint(condition=Q(kind__in=["oidc", "saml"]), name="sso_provider_kind_valid"),
            # Only a provider whose published configuration was fetched and checked signs people
            # in (a SAML IdP given by certificate has nothing to fetch).
            models.CheckConstraint(
                condition=Q(enabled=False) | Q(kind="saml", idp_metadata_url="")
                | Q(metadata_checked_at__isnull=False),
                name="sso_provider_enabled_only_checked"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.slug})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.number is None:
            last = (IdentityProvider.objects.filter(account_id=self.account_id)
                    .aggregate(m=models.Max("number"))["m"])
            self.number = (last or 0) + 1
        super().save(*args, **kwargs)

    @property
    def slug(self) -> str:
        return provider_slug(self.account.account_number, self.number)

    def scope_list(self) -> list[str]:
        return scope_list(self.scopes)

    @property
    def needs_connection_test(self) -> bool:
        """Its published configuration was never fetched and checked (a SAML IdP given by
        certificate has nothing to fetch)."""
        return self.metadata_checked_at is None and (self.kind == self.OIDC or bool(self.idp_metadata_url))

    def enable_refusal(self) -> str:
        """Why the provider cannot be enabled yet ("" when it can): its published configuration
        must have been checked, and a test sign-in through it must have succeeded."""
        if self.needs_connection_test:
            return "Test its connection first."
        if self.test_signed_in_at is None:
            return "Run a test sign-in through it first."
        return ""

    def set_client_secret(self, plain: str) -> None:
        self.client_secret_encrypted = crypto.encrypt(plain)

    @classmethod
    def portable_row(cls, row: dict[str, Any], account_id: int) -> dict[str, Any]:
        """Imported disabled, without its secret (encrypted with the source deployment's key) and
        untested: the admin enters the secret again and the IdP's redirect URIs change with the
        host anyway."""
        return {**row, "client_secret_encrypted": "", "enabled": False, "test_signed_in_at": None}

    @classmethod
    def portable_imported(cls, account_id: int) -> None:
        invalidate_with_commit(providers_key(account_id))


def provider_slug(account_number: str, number: int) -> str:
    """``acct-<account number without dashes>-<n>``: allauth's provider id of the provider."""
    return f"acct-{account_number.replace('-', '')}-{int(number)}"


def scope_list(scopes: str) -> list[str]:
    """The scopes to request: ``openid`` first, then the configured ones, each once."""
    words = ["openid", *scopes.split()]
    return list(dict.fromkeys(words))


tenancy.register(IdentityProvider, audit=True, portability=tenancy.Portability(
    adjust_row=IdentityProvider.portable_row, imported=IdentityProvider.portable_imported))
