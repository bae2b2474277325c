"""A custom domain an account brings (``app.acme.com``), served after DNS proves control."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Lower

import tenancy
from accounts.models import Account, MetaDataWithOwnershipModel
from tenancy.cache import invalidate_with_commit
from tenancy.portability import SkipRow
from tenancy.wall import crosses
from tenancy.wall_scoping import TenantWallManager
from workspaces.models import Workspace

from .cache_keys import bucket_key, canonical_key
from .hostnames import BUCKETS, bucket_of, normalize_custom_domain, validate_custom_domain

CHALLENGE_LABEL = "_smarter-challenge"


def new_token() -> str:
    """A fresh verification token (the value of the TXT record)."""
    return "smarter-verify-" + secrets.token_hex(16)


ALREADY_REGISTERED = "This domain is already registered on the platform."


class HostnameClaim(models.Model):
    """The platform-wide register of custom hostnames: one row per hostname, naming its account.

    A hostname is unique across all accounts, but ``Domain`` is distributed by ``account_id``
    and can only be unique per account; this small table holds the global rule (its unique
    index) and is what routing reads first, before the account is known. A claim is written in
    the same transaction as its domain (``Domain.save``) and removed with it
    (``domains.signals``); on PostgreSQL the domain's ``(account_id, hostname)`` references it,
    so no domain exists without its account's claim.
    """

    distribution_reference_reason = (
        "the routing table of custom hostnames, read before the account is known, and the one "
        "place a hostname is unique across all accounts (Domain is unique per account only)"
    )

    hostname = models.CharField(max_length=253, unique=True)
    account = models.ForeignKey(Account, on_delete=models.CASCADE, db_index=False, related_name="+")
    bucket = models.PositiveIntegerField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantWallManager()  # the database wall's contract on SQLite too

    class Meta:
        constraints = [
            # the target of the domains' (account_id, hostname) foreign key
            models.UniqueConstraint(fields=["account", "hostname"], name="domains_claim_account_hostname"),
            models.CheckConstraint(condition=Q(hostname=Lower("hostname")),
                                   name="domains_claim_hostname_lower_case"),
        ]

    def __str__(self) -> str:
        return self.hostname

    @classmethod
    def portable_row(cls, row: dict[str, Any], account_id: int) -> dict[str, Any]:
        """An imported claim: only while no other account holds the hostname here."""
        held_elsewhere(row.get("hostname"), account_id)
        return {**row, "bucket": bucket_of(str(row.get("hostname") or ""))}


@crosses("an import: is the hostname claimed by another account of this deployment")
def held_elsewhere(hostname: Any, account_id: int) -> None:
    """SkipRow when another account of this deployment claims ``hostname`` (an import of a
    copy next to its original: the hostname stays with the original)."""
    if HostnameClaim.objects.filter(hostname=hostname).exclude(account_id=account_id).exists():
        raise SkipRow("its hostname is held by another account of this deployment")


class Domain(MetaDataWithOwnershipModel):
    """A hostname owned by an account, optionally serving one of its workspaces.

    Unique across the platform (case-insensitively, by the database through its
    :class:`HostnameClaim`; the domain table itself is unique per account). ``pending`` until the
    TXT record ``_smarter-challenge.<hostname>`` carries ``token``; ``verified`` domains are
    routed; a verified domain whose record disappears is ``suspended`` after the grace period.
    """

    PENDING, VERIFIED, SUSPENDED = "pending", "verified", "suspended"
    STATUS_CHOICES = [(PENDING, "Pending"), (VERIFIED, "Verified"), (SUSPENDED, "Suspended")]

    hostname = models.CharField("Domain", max_length=253,
                                help_text="The address people type to reach you, e.g. app.example.com.",
                                validators=[validate_custom_domain])
    workspace = models.ForeignKey(
        Workspace, on_delete=models.SET_NULL, null=True, blank=True, related_name="domains",
        help_text="The workspace this domain opens. Empty: the account's home page.",
    )
    status = models.CharField("Status", max_length=16, choices=STATUS_CHOICES, default=PENDING)
    token = models.CharField(max_length=64, default=new_token, editable=False)
    verified_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(
        null=True, blank=True, editable=False,
        help_text="When we first stopped finding the domain's TXT record. If it stays missing, "
        "the domain is suspended after a grace period.",
    )
    last_check_detail = models.CharField(max_length=255, blank=True, default="", editable=False)
    cname_target = models.CharField(max_length=253, blank=True, default="", editable=False,
                                    help_text="Where the domain pointed when we last checked.")
    is_canonical = models.BooleanField(
        "Main address", default=False,
        help_text="While the domain is verified, visitors of the account's own address are sent here.",
    )
    bucket = models.PositiveIntegerField(editable=False, db_index=True)

    class Meta(MetaDataWithOwnershipModel.Meta):
        ordering = ["hostname"]
        constraints = [
            models.UniqueConstraint(
                "account", Lower("hostname"), name="domains_unique_hostname_per_account",
                violation_error_message=ALREADY_REGISTERED,
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

    @classmethod
    def portable_row(cls, row: dict[str, Any], account_id: int) -> dict[str, Any]:
        """An imported domain: not while another account holds its hostname; its verification
        token (a secret, not exported) is new, so DNS must prove control again."""
        held_elsewhere(row.get("hostname"), account_id)
        return {**row, "bucket": bucket_of(str(row.get("hostname") or ""))}

    @classmethod
    def portable_imported(cls, account_id: int) -> None:
        """Domains were imported into the account: their buckets' routes and the account's
        canonical domain are stale."""
        buckets = cls.objects.filter(account_id=account_id).values_list("bucket", flat=True).distinct()
        invalidate_with_commit(canonical_key(account_id), *sorted(bucket_key(b) for b in buckets))

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
        """Form validation (admin): a new hostname must be unclaimed, the workspace one of the
        owner's account."""
        if self._state.adding and self.hostname:
            try:
                taken = hostname_taken(normalize_custom_domain(self.hostname))
            except ValidationError:
                taken = False  # the field's validator reports the malformed name
            if taken:
                raise ValidationError({"hostname": ALREADY_REGISTERED})
        if self.workspace_id is not None and self.user_profile_id is not None:
            account_id = self.user_profile.account_id
            if not Workspace.objects.filter(pk=self.workspace_id, account_id=account_id).exists():
                raise ValidationError({"workspace": "Choose a workspace of the domain's account."})

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Normalise the hostname, keep it immutable, keep the workspace in the account, and
        write the hostname's claim in the same transaction (IntegrityError when another domain
        holds it)."""
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and not {"hostname", "workspace", "user_profile",
                                              "account"} & set(update_fields):
            super().save(*args, **kwargs)  # a status change: nothing below can be affected
            return
        self.hostname = normalize_custom_domain(self.hostname)
        stored_account = None
        if self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values_list("hostname", "account_id").first()
            if stored is not None and stored[0] != self.hostname:
                raise ValidationError("A domain's hostname cannot change; remove it and add the new one.")
            stored_account = stored[1] if stored is not None else None
        self.bucket = bucket_of(self.hostname)
        if self.workspace_id is not None and self.user_profile_id is not None:
            in_account = Workspace.objects.filter(
                pk=self.workspace_id, account_id=self.user_profile.account_id
            ).exists()
            if not in_account:
                raise ValidationError("The workspace must belong to the domain's account.")
        with transaction.atomic():
            super().save(*args, **kwargs)  # sets account_id from the owner
            if stored_account is None:
                HostnameClaim.objects.create(hostname=self.hostname, account_id=self.account_id,
                                             bucket=self.bucket)
            elif stored_account != self.account_id:  # handed to another account: its claim too
                HostnameClaim.objects.filter(hostname=self.hostname).update(account_id=self.account_id)


def hostname_taken(hostname: str) -> bool:
    """Whether a (normalised) hostname is claimed by any account: one reference-table read."""
    return HostnameClaim.objects.filter(hostname=hostname).exists()


tenancy.register(HostnameClaim, portability=tenancy.Portability(adjust_row=HostnameClaim.portable_row))
tenancy.register(
    # every DNS check writes last_checked_at: a check that changes nothing else is no audit event
    Domain, audit=True, audit_ignored_fields=("last_checked_at",), permission_owner_field="user_profile",
    portability=tenancy.Portability(adjust_row=Domain.portable_row, imported=Domain.portable_imported),
)
