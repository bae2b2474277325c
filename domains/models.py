"""A custom domain an account brings (``app.acme.com``), served after DNS proves control."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.models import MetaDataWithOwnershipModel
from workspaces.models import Workspace

from .hostnames import BUCKETS, bucket_of, normalize_custom_domain, validate_custom_domain

CHALLENGE_LABEL = "_smarter-challenge"


def new_token() -> str:
    """A fresh verification token (the value of the TXT record)."""
    return "smarter-verify-" + secrets.token_hex(16)


class Domain(MetaDataWithOwnershipModel):
    """A hostname owned by an account, optionally serving one of its workspaces.

    Unique across the platform (case-insensitively, by the database). ``pending`` until the
    TXT record ``_smarter-challenge.<hostname>`` carries ``token``; ``verified`` domains are
    routed; a verified domain whose record disappears is ``suspended`` after the grace period.
    """

    PENDING, VERIFIED, SUSPENDED = "pending", "verified", "suspended"
    STATUS_CHOICES = [(PENDING, "Pending"), (VERIFIED, "Verified"), (SUSPENDED, "Suspended")]

    hostname = models.CharField(max_length=253, help_text="e.g. app.example.com",
                                validators=[validate_custom_domain])
    workspace = models.ForeignKey(
        Workspace, on_delete=models.SET_NULL, null=True, blank=True, related_name="domains",
        help_text="Serve this workspace; empty: the account's home.",
    )
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=PENDING)
    token = models.CharField(max_length=64, default=new_token, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="First check that missed the TXT record of a verified domain.",
    )
    last_check_detail = models.CharField(max_length=255, blank=True, default="", editable=False)
    cname_target = models.CharField(max_length=253, blank=True, default="", editable=False,
                                    help_text="Where the hostname's CNAME pointed at the last check.")
    is_canonical = models.BooleanField(
        default=False, help_text="While verified, the account's number host redirects its pages here.",
    )
    bucket = models.PositiveIntegerField(editable=False, db_index=True)

    class Meta(MetaDataWithOwnershipModel.Meta):
        ordering = ["hostname"]
        constraints = [
            models.UniqueConstraint(
                Lower("hostname"), name="domains_unique_hostname",
                violation_error_message="This domain is already registered on the platform.",
            ),
            models.CheckConstraint(condition=Q(hostname=Lower("hostname")),
                                   name="domains_hostname_lower_case"),
            models.CheckConstraint(condition=Q(status__in=["pending", "verified", "suspended"]),
                                   name="domains_status_valid"),
            models.CheckConstraint(condition=~Q(status="verified") | Q(verified_at__isnull=False),
                                   name="domains_verified_has_time"),
            models.CheckConstraint(condition=Q(bucket__gte=0, bucket__lt=BUCKETS),
                                   name="domains_bucket_range"),
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_canonical=True),
                name="domains_one_canonical_per_account",
                violation_error_message="The account already has a canonical domain.",
            ),
        ]

    def __str__(self) -> str:
        return self.hostname

    @property
    def challenge_name(self) -> str:
        """The name of the TXT record that proves control."""
        return f"{CHALLENGE_LABEL}.{self.hostname}"

    def dns_records(self) -> list[dict[str, str]]:
        """The records the customer creates at their DNS provider."""
        return [
            {"type": "CNAME", "name": self.hostname, "value": settings.CUSTOM_DOMAIN_TARGET},
            {"type": "TXT", "name": self.challenge_name, "value": self.token},
        ]

    def clean(self) -> None:
        """Form validation (admin): the workspace must be one of the owner's account."""
        if self.workspace_id is not None and self.user_profile_id is not None:
            account_id = self.user_profile.account_id
            if not Workspace.objects.filter(pk=self.workspace_id, account_id=account_id).exists():
                raise ValidationError({"workspace": "Choose a workspace of the domain's account."})

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Normalise the hostname, keep it immutable, and keep the workspace in the account."""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and not {"hostname", "workspace"} & set(update_fields):
            super().save(*args, **kwargs)  # a status change: nothing below can be affected
            return
        self.hostname = normalize_custom_domain(self.hostname)
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("hostname", flat=True).first()
            if stored is not None and stored != self.hostname:
                raise ValidationError("A domain's hostname cannot change; remove it and add the new one.")
        self.bucket = bucket_of(self.hostname)
        if self.workspace_id is not None and self.user_profile_id is not None:
            in_account = Workspace.objects.filter(
                pk=self.workspace_id, account_id=self.user_profile.account_id
            ).exists()
            if not in_account:
                raise ValidationError("The workspace must belong to the domain's account.")
        super().save(*args, **kwargs)
