"""Secrets shown once and stored hashed: API keys, SCIM tokens, hand-off tokens, invitations.

The raw secret exists only in the answer to whoever created it (a page, a mail, a redirect);
the table keeps its SHA-256 hash. :class:`HashedSecret` holds what every such table shares
(the hash, making a secret, matching one, finding a row by one); :class:`PrefixedSecret`
adds what keys used on every request share (a visible prefix to find and tell them apart,
last use, revocation).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any, ClassVar, Self

from django.db import models
from django.utils import timezone

LAST_USED_RESOLUTION = timedelta(minutes=1)
PREFIX_HEX_DIGITS = 12


def hash_secret(raw: str) -> str:
    """The stored form of a raw secret (hex SHA-256)."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


class HashedSecret(models.Model):
    """A row identified by a secret of which only the hash is stored.

    ``hash_field`` names the column holding the hash (``token_hash`` unless a table kept
    another name)."""

    hash_field: ClassVar[str] = "token_hash"
    token_hash = models.CharField(max_length=64, editable=False)

    class Meta:
        abstract = True

    def _raw_secret(self) -> str:
        return secrets.token_urlsafe(32)

    def new_secret(self) -> str:
        """Give the row a fresh secret (unsaved) and return the raw value, never stored."""
        raw = self._raw_secret()
        setattr(self, self.hash_field, hash_secret(raw))
        return raw

    @classmethod
    def create_with_secret(cls, **fields: Any) -> tuple[Self, str]:
        """A new saved row and its raw secret (the only time the raw value exists)."""
        row = cls(**fields)
        raw = row.new_secret()
        row.save(force_insert=True)
        return row, raw

    def matches(self, raw: str) -> bool:
        """Whether ``raw`` is this row's secret (compared in constant time)."""
        return hmac.compare_digest(getattr(self, self.hash_field), hash_secret(raw))

    @classmethod
    def with_secret(cls, raw: Any, **filters: Any) -> models.QuerySet[Self]:
        """The rows whose secret is ``raw`` (and match ``filters``); none for a value that is
        not a plausible bare secret, which is then neither hashed nor looked up."""
        if not isinstance(raw, str) or not 20 <= len(raw) <= 100:
            return cls._default_manager.none()
        return cls._default_manager.filter(**{cls.hash_field: hash_secret(raw)}, **filters)


class PrefixedSecret(HashedSecret):
    """A revocable secret used on many requests, ``<mark>XXXXXXXXXXXX.SECRET``: the visible
    prefix (``mark`` and 12 hex digits, a ``prefix`` field of the concrete model, unique per
    account) finds the row, the hash proves the rest."""

    mark: ClassVar[str]
    prefix: str

    last_used_at = models.DateTimeField("Last used", null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField("Revoked", null=True, blank=True, editable=False)

    class Meta:
        abstract = True

    def _raw_secret(self) -> str:
        self.prefix = self.mark + secrets.token_hex(PREFIX_HEX_DIGITS // 2)
        return f"{self.prefix}.{secrets.token_urlsafe(32)}"

    @classmethod
    def split(cls, raw: Any) -> str | None:
        """The prefix of a well-formed raw secret of this kind, else None (only well-formed
        prefixes are looked up, and logged)."""
        if not isinstance(raw, str) or len(raw) > 200 or "." not in raw:
            return None
        prefix, _, secret = raw.partition(".")
        digits = prefix[len(cls.mark):]
        if not prefix.startswith(cls.mark) or len(digits) != PREFIX_HEX_DIGITS or len(secret) < 20:
            return None
        return prefix if all(c in "0123456789abcdef" for c in digits) else None

    def revoke(self, *also_saved: str) -> None:
        """Stop the secret working now (``also_saved``: further fields a subclass changed)."""
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at", *also_saved])

    def touch(self) -> None:
        """Set ``last_used_at`` to now, at most once per LAST_USED_RESOLUTION (one conditional
        UPDATE): keys and tokens are used on every request."""
        now = timezone.now()
        if self.last_used_at is not None and now - self.last_used_at < LAST_USED_RESOLUTION:
            return
        type(self)._default_manager.filter(pk=self.pk).filter(
            models.Q(last_used_at__isnull=True) | models.Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
        ).update(last_used_at=now)
        self.last_used_at = now
