"""Single-use hand-off tokens: move a person who just verified their sign-up on the bare
domain to their new tenant's host, signed in there, without sharing a cookie across hosts.

The token is bound to one host, lives at most ``HANDOFF_TTL`` (<= 60) seconds, and only its
hash is stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

import tenancy
from tenancy.wall_scoping import TenantWallManager

from .account import Account
from .secret import HashedSecret


class HandoffToken(HashedSecret):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+")
    host = models.CharField(max_length=253)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    objects = TenantWallManager()  # the database wall's contract on SQLite too

    class Meta:
        # redeemed on the tenant host: looked up with its account, so unique per account
        # (every unique rule of a tenant table includes account_id, see tenancy/distribution.py)
        constraints = [models.UniqueConstraint(fields=["account", "token_hash"],
                                               name="accounts_handoff_token_per_account")]
        indexes = [models.Index(fields=["expires_at"], name="accounts_handoff_expires")]

    def __str__(self) -> str:
        return f"hand-off of user {self.user_id} to {self.host}"

    @classmethod
    def issue(cls, user: Any, account: Account, host: str) -> str:
        """A new token for ``user`` on ``host``; returns the raw token (never stored)."""
        now = timezone.now()
        cls.objects.filter(expires_at__lt=now - timedelta(hours=1)).delete()  # keep it small
        _, raw = cls.create_with_secret(user=user, account=account, host=host,
                                        expires_at=now + timedelta(seconds=settings.HANDOFF_TTL))
        return raw

    @classmethod
    def redeem(cls, raw: str, host: str, account: Account) -> Any | None:
        """The user of an unused, unexpired token issued for ``host`` and ``account``, consuming
        it (one UPDATE: of two concurrent redemptions exactly one wins); else None."""
        now = timezone.now()
        match = cls.with_secret(raw, host=host, account=account, used_at__isnull=True,
                                expires_at__gt=now)
        token = match.select_related("user").first()
        if token is None or not match.filter(pk=token.pk).update(used_at=now):
            return None
        return token.user


tenancy.register(HandoffToken)
