"""Invitations to join an account: a single-use, expiring, revocable emailed token.

Only the token's SHA-256 hash is stored; the raw token exists in the invitation mail only.
The database keeps at most one open (neither accepted nor revoked) invitation per account
and address.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

import tenancy
from tenancy.wall_scoping import TenantWallManager

from .account import Account
from .secret import HashedSecret
from .user_profile import UserProfile


class AlreadyInvited(Exception):
    """The address has a pending invitation to this account already."""


class Invitation(HashedSecret):
    PENDING, ACCEPTED, EXPIRED, REVOKED = "pending", "accepted", "expired", "revoked"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField("Email address", max_length=254,
                              help_text="Where the invitation is sent.")
    role = models.CharField("Role", max_length=16, choices=UserProfile.ROLE_CHOICES,
                            default=UserProfile.ROLE_MEMBER,
                            help_text="What they can do once they join.")
    invited_by = models.ForeignKey(UserProfile, on_delete=models.SET_NULL, null=True, blank=True,
                                   related_name="+", verbose_name="Invited by")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField("Sent", default=timezone.now)
    expires_at = models.DateTimeField("Expires", help_text="The link in the invitation stops working then.")
    accepted_at = models.DateTimeField("Accepted", null=True, blank=True)
    accepted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL,
                                    null=True, blank=True, related_name="+")
    revoked_at = models.DateTimeField("Revoked", null=True, blank=True)

    objects = TenantWallManager()  # the database wall's contract on SQLite too

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # accepted on the inviting host only: looked up with its account
            models.UniqueConstraint(fields=["account", "token_hash"],
                                    name="accounts_invitation_token_per_account"),
            models.UniqueConstraint(
                fields=["account", "email"],
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="accounts_invitation_one_open_per_email",
                violation_error_message="This address has a pending invitation already.",
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True) | Q(revoked_at__isnull=True),
                name="accounts_invitation_accepted_or_revoked",
            ),
            models.CheckConstraint(condition=Q(role__in=["admin", "member"]),
                                   name="accounts_invitation_role"),
        ]
        indexes = [models.Index(fields=["account", "created_at"], name="accounts_inv_account_created")]

    def __str__(self) -> str:
        return f"{self.email} → {self.account_id} ({self.status})"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return self.ACCEPTED
        if self.revoked_at is not None:
            return self.REVOKED
        if self.expires_at <= timezone.now():
            return self.EXPIRED
        return self.PENDING

    @property
    def is_usable(self) -> bool:
        return self.status == self.PENDING

    @classmethod
    def issue(cls, account: Account, email: str, role: str,
              invited_by: UserProfile | None = None) -> tuple[Invitation, str]:
        """A new invitation (or the address's expired one, renewed) and its raw token.

        Raises AlreadyInvited when a pending invitation exists.
        """
        email = email.strip().lower()
        with transaction.atomic():
            open_ = (cls.objects.select_for_update()
                     .filter(account=account, email=email, accepted_at__isnull=True,
                             revoked_at__isnull=True).first())
            if open_ is not None:
                if open_.status == cls.PENDING:
                    raise AlreadyInvited(email)
                open_.role, open_.invited_by = role, invited_by
                return open_, open_.renew()
            invitation, raw = cls.create_with_secret(
                account=account, email=email, role=role, invited_by=invited_by,
                expires_at=timezone.now() + cls.lifetime(),
            )
        return invitation, raw

    @staticmethod
    def lifetime() -> timedelta:
        return timedelta(days=settings.INVITATION_EXPIRY_DAYS)

    def renew(self) -> str:
        """A fresh token and expiry (the old link stops working); the new raw token."""
        raw = self.new_secret()
        self.sent_at = timezone.now()
        self.expires_at = self.sent_at + self.lifetime()
        self.save()
        return raw

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])

    @classmethod
    def find(cls, account: Any, raw: str) -> Invitation | None:
        """The invitation of ``account`` with this raw token (any status), else None."""
        return cls.with_secret(raw, account=account).first()

    def mark_accepted(self, user: Any) -> bool:
        """Consume the invitation once (a concurrent second use gets False)."""
        now = timezone.now()
        done = type(self).objects.filter(
            pk=self.pk, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now,
        ).update(accepted_at=now, accepted_by=user)
        if done:
            self.accepted_at, self.accepted_by = now, user
        return bool(done)


tenancy.register(Invitation, audit=True)
