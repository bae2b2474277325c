"""SCIM 2.0 provisioning per account: the bearer tokens an identity provider uses, and the
link between a SCIM User resource and the membership it manages.

Both are tenant tables (``account_id`` first in every unique rule, behind the database wall).
A token is stored only as its SHA-256 hash, like an API key; ``ScimToken.create`` returns the
raw value once.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models.functions import Lower

import tenancy
from accounts.models import Account, UserProfile
from accounts.models.secret import PREFIX_HEX_DIGITS, PrefixedSecret
from tenancy.validators import validate_single_line
from tenancy.wall_scoping import TenantWallManager

TOKEN_MARK = "scim_"  # noqa: S105 - the visible mark of a token, not a secret


class ScimToken(PrefixedSecret):
    """A bearer token with which one account's identity provider provisions its members."""

    mark = TOKEN_MARK

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=255, validators=[validate_single_line])
    prefix = models.CharField(max_length=len(TOKEN_MARK) + PREFIX_HEX_DIGITS, editable=False)
    created_by = models.ForeignKey(UserProfile, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantWallManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "SCIM token"
        constraints = [
            models.UniqueConstraint(fields=["account", "prefix"], name="scim_token_unique_prefix"),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'SCIM token'} ({self.prefix}…)"

    @classmethod
    def create(cls, account: Account, name: str, created_by: UserProfile | None) -> tuple[ScimToken, str]:
        """A new saved token and its raw value (the only time the raw value exists)."""
        return cls.create_with_secret(account=account, name=name, created_by=created_by)

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ScimUser(models.Model):
    """A SCIM User resource: the identity provider's name for one membership of the account.

    ``scim_id`` is the resource id the provider sees (never the database id); ``user_name``
    is unique per account, case-insensitively (SCIM's ``userName`` is not case-exact)."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    user_profile = models.ForeignKey(UserProfile, on_delete=models.CASCADE, related_name="+")
    scim_id = models.UUIDField(default=uuid.uuid4, editable=False)
    user_name = models.CharField(max_length=255)
    external_id = models.CharField(max_length=255, blank=True, default="")
    # What the provider sent as displayName and name.formatted, returned as sent (the user's
    # own name fields are givenName and familyName).
    display_name = models.CharField(max_length=255, blank=True, default="")
    formatted_name = models.CharField(max_length=255, blank=True, default="")
    # Whether SCIM made this member an admin: a PUT of the admins' group demotes only these,
    # never an admin the account made itself.
    admin_by_scim = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantWallManager()

    class Meta:
        ordering = ["account_id", "id"]
        verbose_name = "SCIM user"
        constraints = [
            models.UniqueConstraint(fields=["account", "scim_id"], name="scim_user_unique_id"),
            models.UniqueConstraint(fields=["account", "user_profile"], name="scim_user_unique_profile"),
            models.UniqueConstraint("account", Lower("user_name"), name="scim_user_unique_user_name"),
        ]

    def __str__(self) -> str:
        return self.user_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        """The account is always the membership's own."""
        self.account_id = self.user_profile.account_id
        super().save(*args, **kwargs)


tenancy.register(ScimToken, audit=True)
tenancy.register(ScimUser, audit=True)
