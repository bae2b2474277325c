"""Create the default account and the platform admin; a no-op when both exist."""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from accounts.provisioning import add_member, ensure_default_account
from tenancy.commands import PlatformCommand


class Command(PlatformCommand):
    help = (
        "Create the default account and the platform admin (idempotent). The password "
        "comes from PLATFORM_ADMIN_PASSWORD or a prompt; it is never printed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--username", default=settings.PLATFORM_ADMIN_USERNAME)
        parser.add_argument("--email", default=settings.PLATFORM_ADMIN_EMAIL)
        parser.add_argument("--company-name", default="Platform")
        parser.add_argument(
            "--no-input", action="store_true",
            help="Never prompt; without PLATFORM_ADMIN_PASSWORD the admin gets no usable password.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        account, account_created = ensure_default_account(options["company_name"])
        self.stdout.write(
            f"default account {account.account_number}: "
            + ("created" if account_created else "already present")
        )
        username = options["username"]
        existing = get_user_model().objects.filter(username=username).first()
        if existing is not None and not existing.is_superuser:
            raise CommandError(
                f"User {username!r} exists and is not a superuser; refusing to promote it. "
                "Choose another --username (or PLATFORM_ADMIN_USERNAME)."
            )
        password = None
        if existing is None:
            password = settings.PLATFORM_ADMIN_PASSWORD or self._prompt(options["no_input"])
        profile, created = add_member(
            account, username, email=options["email"], password=password, superuser=True
        )
        self.stdout.write(
            f"platform admin {username!r}: " + ("created" if created else "already present")
        )
        if created and not password:
            self.stdout.write(
                "the admin has no usable password; set one with "
                f"`python manage.py changepassword {username}`"
            )

    def _prompt(self, no_input: bool) -> str | None:
        if no_input or not sys.stdin.isatty() or os.environ.get("CI"):
            return None
        first = getpass.getpass("Platform admin password: ")
        if first != getpass.getpass("Again: "):
            raise CommandError("The passwords did not match; nothing was changed for the admin.")
        return first or None
