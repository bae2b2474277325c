"""Per-account daily usage: requests, API calls and active members per UTC day.

Written in batches by ``accounts.usage`` (an upsert per account and flush, never a query per
request); read by the console overview and ``/api/v1/usage/``. No Prometheus label carries
an account: this table is where per-account figures live.
"""

from __future__ import annotations

from typing import Any

from django.db import models

import tenancy
from tenancy.portability import SkipRow
from tenancy.wall_scoping import TenantWallManager

from .account import Account


class DailyUsage(models.Model):
    """Requests (all of them) and API calls served to one account on one UTC day."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    requests = models.BigIntegerField(default=0)
    api_calls = models.BigIntegerField(default=0)

    objects = TenantWallManager()  # the database wall's contract on SQLite too

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="accounts_dailyusage_unique_day"),
            models.CheckConstraint(condition=models.Q(requests__gte=0, api_calls__gte=0),
                                   name="accounts_dailyusage_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.requests} requests"


class DailyActiveMember(models.Model):
    """A member (profile id, kept after the member is removed) who was served on that day."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    member_id = models.BigIntegerField(help_text="UserProfile id")

    objects = TenantWallManager()  # the database wall's contract on SQLite too

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "member_id"],
                                    name="accounts_dailyactivemember_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: member {self.member_id}"

    @classmethod
    def portable_row(cls, row: dict[str, Any], account_id: int) -> dict[str, Any]:
        if row.get("member_id") is None:
            raise SkipRow("its member was removed before the export")
        return row


tenancy.register(DailyUsage)
tenancy.register(DailyActiveMember, portability=tenancy.Portability(
    # an import remaps the profile id; a member removed before the export has no row to map
    # to, so that day's row of theirs is left out
    references={"member_id": "accounts.UserProfile"}, adjust_row=DailyActiveMember.portable_row,
))
