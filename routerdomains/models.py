"""The hosts the platform's router must serve, per account, and the removals still owed.

A workspace host ``team.NUMBER.ENV.api.ROOT`` is served over HTTPS only once the router knows
the account's wildcard ``*.NUMBER.ENV.api.ROOT`` and holds a certificate for it; a custom domain
likewise once it is added. :class:`RouterDomain` records each such host of an account and where
its provisioning stands; :class:`RouterDomainRemoval` is the platform's queue of hosts no account
wants any more (the account may be purged already, so it carries no foreign key to it).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

import tenancy
from accounts.models import Account
from tenancy.wall_scoping import TenantWallManager


class RouterDomain(models.Model):
    """One host an account needs on the router (its workspace wildcard, or a verified domain)."""

    WORKSPACES, CUSTOM = "workspaces", "custom"
    KIND_CHOICES = [(WORKSPACES, "Workspace hosts"), (CUSTOM, "Custom domain")]

    QUEUED, ADDED, PENDING, ISSUED, FAILED, MANUAL = (
        "queued", "added", "pending", "issued", "failed", "manual")
    STATE_CHOICES = [
        (QUEUED, "Waiting to be added"),
        (ADDED, "Added to the router"),
        (PENDING, "Certificate pending"),
        (ISSUED, "Certificate issued"),
        (FAILED, "Failed"),
        (MANUAL, "Operator must route it"),
    ]
    SETTLED = (ISSUED, MANUAL)  # nothing left to do: no next attempt

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    hostname = models.CharField(max_length=253)
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    state = models.CharField(max_length=16, choices=STATE_CHOICES, default=QUEUED)
    provider = models.CharField(max_length=16,
                                help_text="The hosting service that last handled this address.")
    provider_id = models.CharField(max_length=64, blank=True, default="",
                                   help_text="The hosting service's own id for this address, once added.")
    dns_target = models.CharField(max_length=253, blank=True, default="",
                                  help_text="Where this address's DNS record must point.")
    acm_status = models.CharField(max_length=64, blank=True, default="")
    detail = models.CharField(max_length=255, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0, help_text="Tries since this address last settled.")
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantWallManager()  # the database wall's contract on SQLite too

    class Meta:
        ordering = ["kind", "hostname"]
        constraints = [
            models.UniqueConstraint(fields=["account", "hostname"], name="routerdomains_host_per_account"),
            models.CheckConstraint(condition=Q(hostname=Lower("hostname")),
                                   name="routerdomains_hostname_lower_case"),
            models.CheckConstraint(condition=Q(kind__in=["workspaces", "custom"]),
                                   name="routerdomains_kind_valid"),
            models.CheckConstraint(
                condition=Q(state__in=["queued", "added", "pending", "issued", "failed", "manual"]),
                name="routerdomains_state_valid"),
            # a host is either settled or has its next attempt scheduled: none is forgotten
            models.CheckConstraint(
                condition=Q(state__in=["issued", "manual"], next_attempt_at__isnull=True)
                | (~Q(state__in=["issued", "manual"]) & Q(next_attempt_at__isnull=False)),
                name="routerdomains_unsettled_has_next_attempt"),
        ]
        indexes = [models.Index(fields=["account", "state"], name="routerdomains_account_state"),
                   models.Index(fields=["next_attempt_at"], name="routerdomains_next_attempt")]

    def __str__(self) -> str:
        return self.hostname

    @property
    def served_over_https(self) -> bool:
        return self.state == self.ISSUED


class RouterDomainRemoval(models.Model):
    """A host to take off the router: no account's :class:`RouterDomain` names it any more.

    Written in the transaction that deletes the router domain (a removed custom domain, a
    purged account); done by the ``remove_router_domain`` task, retried by ``check_domains``.
    The host is removed only if, when the call is made, no account records it again.
    """

    hostname = models.CharField(max_length=253, unique=True)
    provider_id = models.CharField(max_length=64, blank=True, default="")
    account_number = models.CharField(max_length=14, blank=True, default="",
                                      help_text="The account that needed this address.")
    detail = models.CharField(max_length=255, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["next_attempt_at"]
        constraints = [
            models.CheckConstraint(condition=Q(hostname=Lower("hostname")),
                                   name="routerdomains_removal_hostname_lower_case"),
        ]

    def __str__(self) -> str:
        return f"remove {self.hostname}"


# An imported account gets its own hosts recorded here (its creation, a domain verified again),
# never the exported ones: they name the original's hosts.
tenancy.register(RouterDomain, portability=tenancy.Portability(deployment_state=True))
