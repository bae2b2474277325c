"""Create a user (or add an existing one) as a member of an account."""

from __future__ import annotations

import os
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from accounts.management.options import account_from_option
from accounts.provisioning import add_member


class Command(BaseCommand):
    help = (
        "Create a user in an account. The password is read from the environment variable "
        "named by --password-env (default NEW_USER_PASSWORD); it is never printed."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("username")
        parser.add_argument("--account", required=True, help="Account number NNNN-NNNN-NNNN.")
        parser.add_argument("--email", default="")
        parser.add_argument("--admin", action="store_true", help="Make the user an account admin.")
        parser.add_argument("--password-env", default="NEW_USER_PASSWORD")

    def handle(self, *args: Any, **options: Any) -> None:
        account = account_from_option(options["account"], active_only=False)
        username = options["username"].strip()
        if not username:
            raise CommandError("username must not be empty.")
        try:
            get_user_model()._meta.get_field("username").clean(username, None)
        except ValidationError as exc:
            raise CommandError(f"invalid username {username!r}: {' '.join(exc.messages)}") from exc
        if options["email"]:
            try:
                validate_email(options["email"])
            except ValidationError as exc:
                raise CommandError(f"invalid --email {options['email']!r}.") from exc
        password = os.environ.get(options["password_env"]) or None
        if password:
            try:
                validate_password(password)
            except ValidationError as exc:  # the messages never contain the password
                raise CommandError(f"the password is too weak: {' '.join(exc.messages)}") from exc
        profile, created = add_member(
            account, username, email=options["email"], password=password, admin=options["admin"]
        )
        verb = "created" if created else "added"
        self.stdout.write(f"{verb} {username} in {account.account_number} as {profile.role}")
