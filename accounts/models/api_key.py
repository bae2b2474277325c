"""Per-account API keys: stored only as a SHA-256 hash, identified by a visible prefix."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.db import models
from django.utils import timezone

from .ownership import MetaDataWithOwnershipModel

KEY_PREFIX_MARK = "sk_"
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_key(raw: str) -> str:
    """The stored form of a raw key (hex SHA-256)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def split_key(raw: str, mark: str = KEY_PREFIX_MARK) -> str | None:
    """The prefix of a well-formed raw key ``<mark>XXXXXXXXXXXX.SECRET``, else None (``mark``:
    ``sk_`` for API keys, ``scim_`` for SCIM tokens)."""
    if not isinstance(raw, str) or len(raw) > 200 or "." not in raw:
        return None
    prefix, _, secret = raw.partition(".")
    if not prefix.startswith(mark) or len(prefix) != len(mark) + 12 or len(secret) < 20:
        return None
    if any(c not in "0123456789abcdef" for c in prefix[len(mark):]):
        return None  # only well-formed prefixes are looked up (and logged)
    return prefix


def record_use(row: Any) -> None:
    """Set ``row.last_used_at`` to now, at most once per LAST_USED_RESOLUTION (one conditional
    UPDATE): keys and tokens are used on every request."""
    now = timezone.now()
    if row.last_used_at is not None and now - row.last_used_at < LAST_USED_RESOLUTION:
        return
    type(row).objects.filter(pk=row.pk).filter(
        models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    row.last_used_at = now


class ApiKey(MetaDataWithOwnershipModel):
    """A key that authenticates its owner's profile within the owner's account only.

    The raw key is ``<prefix>.<secret>``; only its hash is stored. ``ApiKey.create`` returns
    the raw key once.
    """

    prefix = models.CharField(
        "Key starts with", max_length=16, editable=False,
        help_text="The first characters of the key, to tell keys apart. The rest is never shown again.",
    )  # unique per account (Meta)
    key_hash = models.CharField(max_length=64, editable=False)
    is_active = models.BooleanField("Active", default=True,
                                    help_text="Turn off to stop the key working at once.")
    last_used_at = models.DateTimeField("Last used", null=True, blank=True, editable=False)
    expires_at = models.DateTimeField("Expires", null=True, blank=True,
                                      help_text="After this moment the key stops working. Empty: never.")
    revoked_at = models.DateTimeField("Revoked", null=True, blank=True, editable=False)

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
        prefix = KEY_PREFIX_MARK + secrets.token_hex(6)
        raw = f"{prefix}.{secrets.token_urlsafe(32)}"
        key = cls(user_profile=user_profile, name=name, expires_at=expires_at,
                  prefix=prefix, key_hash=hash_key(raw), **fields)
        key.save()
        return key, raw

    def matches(self, raw: str) -> bool:
        return hmac.compare_digest(self.key_hash, hash_key(raw))

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.is_active and not self.is_expired

    def revoke(self) -> None:
        self.is_active = False
        self.revoked_at = timezone.now()
        self.save(update_fields=["is_active", "revoked_at", "updated_at"])

    def touch(self) -> None:
        """Record use (``record_use``)."""
        record_use(self)
