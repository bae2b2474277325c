"""Per-account API keys: stored only as a SHA-256 hash, identified by a visible prefix."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

import tenancy

from .ownership import MetaDataWithOwnershipModel
from .secret import PrefixedSecret

KEY_PREFIX_MARK = "sk_"


class ApiKey(MetaDataWithOwnershipModel, PrefixedSecret):
    """A key that authenticates its owner's profile within the owner's account only.

    The raw key is ``<prefix>.<secret>``; only its hash is stored. ``ApiKey.create`` returns
    the raw key once.
    """

    mark = KEY_PREFIX_MARK
    hash_field = "key_hash"  # the name the table, its exports and its audit events have
    token_hash = None  # type: ignore[assignment]

    prefix = models.CharField(
        "Key starts with", max_length=16, editable=False,
        help_text="The first characters of the key, to tell keys apart. The rest is never shown again.",
    )  # unique per account (Meta)
    key_hash = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField("Active", default=True,
                                    help_text="Turn off to stop the key working at once.")
    expires_at = models.DateTimeField("Expires", null=True, blank=True,
                                      help_text="After this moment the key stops working. Empty: never.")

    class Meta(MetaDataWithOwnershipModel.Meta):
        ordering = ["-created_at", "-id"]
        verbose_name = "API key"
        # Per account, so the table can be distributed by account_id: a key is looked up on
        # its own account's host only (48 random bits make a clash unlikely even there).
        constraints = [
            models.UniqueConstraint(fields=["account", "prefix"], name="accounts_apikey_unique_prefix"),
        ]

    def __str__(self) -> str:
        return f"{self.name or 'key'} ({self.prefix}…)"

    @classmethod
    def create(
        cls, user_profile: Any, name: str, expires_at: Any = None, **fields: Any
    ) -> tuple[ApiKey, str]:
        """A new saved key and its raw value (the only time the raw value exists)."""
        return cls.create_with_secret(user_profile=user_profile, name=name, expires_at=expires_at,
                                      **fields)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.is_active and not self.is_expired

    def revoke(self, *also_saved: str) -> None:
        self.is_active = False
        super().revoke("is_active", "updated_at", *also_saved)


tenancy.register(ApiKey, audit=True, permission_owner_field="user_profile")
