"""What the API keeps between requests: the answers of creating requests sent with an
``Idempotency-Key`` header (api.idempotency)."""

from __future__ import annotations

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone

import tenancy
from accounts.models import Account
from tenancy.wall_scoping import TenantWallManager


class IdempotentRequest(models.Model):
    """One ``Idempotency-Key`` of one account (keys are the account's, as Stripe's are): the
    request's fingerprint and, once it succeeded, its answer, replayed to a retry for
    ``IDEMPOTENCY_KEY_TTL`` seconds. ``status`` is null while the first request runs."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantWallManager()  # the database wall's contract on SQLite too

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "key"],
                                               name="api_idempotent_request_unique")]
        indexes = [models.Index(fields=["created_at"], name="api_idempotent_created")]

    def __str__(self) -> str:
        return f"idempotency key {self.key[:20]!r} of account {self.account_id}"


# The answers kept for retries describe this deployment's handling of requests, not the
# account's content: exported for the record, never imported (a retry goes to the deployment
# that answered it).
tenancy.register(IdempotentRequest, portability=tenancy.Portability(deployment_state=True))
