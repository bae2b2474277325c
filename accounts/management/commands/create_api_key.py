"""Create an API key for a member of an account; the key is printed once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from accounts.management.options import account_from_option
from accounts.models import ApiKey, UserProfile
from tenancy.commands import PlatformCommand


class Command(PlatformCommand):
    help = "Create an API key for an active member of an account. The key is shown only once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--account", required=True, help="Account number NNNN-NNNN-NNNN.")
        parser.add_argument("--username", required=True)
        parser.add_argument("--name", required=True, help="What the key is for.")
        parser.add_argument("--expires-days", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        account = account_from_option(options["account"], active_only=True)
        profile = (
            UserProfile.objects.select_related("user")
            .filter(account=account, user__username=options["username"])
            .first()
        )
        if profile is None or not profile.is_active or not profile.user.is_active:
            raise CommandError(
                f"{options['username']!r} is not an active member of {account.account_number}."
            )
        name = options["name"].strip()
        if not name or len(name) > 255:
            raise CommandError("--name must be 1-255 characters.")
        days = options["expires_days"]
        if days is not None and not 1 <= days <= 3650:
            raise CommandError("--expires-days must be between 1 and 3650.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        key, raw = ApiKey.create(profile, name, expires_at=expires_at)
        self.stderr.write(
            f"created key {key.prefix} for {profile.user.username} in {account.account_number}; "
            "store it now, it is not shown again:"
        )
        self.stdout.write(raw)
