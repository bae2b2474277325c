"""A data export an account admin requested: a zip in the (never publicly served) storage."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

import tenancy
from accounts.models import Account, UserProfile
from tenancy.wall_scoping import TenantWallManager


class DataExport(models.Model):
    """One export. It is downloaded through the console by an admin of its account, whose
    session is the only credential (no secret in a link)."""

    PENDING, READY, FAILED, EXPIRED = "pending", "ready", "failed", "expired"
    STATUS_CHOICES = [(s, s) for s in (PENDING, READY, FAILED, EXPIRED)]

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    requested_by = models.ForeignKey(UserProfile, null=True, on_delete=models.SET_NULL, related_name="+",
                                     verbose_name="Requested by")
    status = models.CharField("Status", max_length=16, choices=STATUS_CHOICES, default=PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField("Finished", null=True, blank=True)
    expires_at = models.DateTimeField("Link expires", null=True, blank=True,
                                      help_text="The download link stops working then.")
    file_name = models.CharField(max_length=255, blank=True, default="")
    size = models.BigIntegerField("Size in bytes", default=0)
    error = models.CharField("Problem", max_length=255, blank=True, default="",
                             help_text="Why the export failed, if it did.")

    objects = TenantWallManager()  # the database wall's contract on SQLite too

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"], name="lifecycle_export_account")]

    def __str__(self) -> str:
        return f"export {self.pk} of account {self.account_id} ({self.status})"

    @classmethod
    def portable_row(cls, row: dict[str, Any], account_id: int) -> dict[str, Any]:
        """An imported export keeps its history but not its file, which stays with the
        deployment and account that wrote it (a purge of the copy must never delete it)."""
        if row.get("file_name") or row.get("status") == cls.READY:
            row = {**row, "file_name": "", "status": cls.EXPIRED}
        return row

    @property
    def is_downloadable(self) -> bool:
        return (
            self.status == self.READY and self.expires_at is not None
            and self.expires_at > timezone.now() and bool(self.file_name)
        )


tenancy.register(DataExport, portability=tenancy.Portability(adjust_row=DataExport.portable_row))
