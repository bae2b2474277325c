"""Create a user as a member of an account; an existing user only with ``--existing``.

An existing user (same username, any case) is refused unless ``--existing`` says the
operator means them: the command then adds them to the account and keeps their password,
which it changes only with ``--reset-password`` (audited as ``user.password_reset``). A user
who already is a member, with nothing to change, is reported and the command fails.

``--email`` on a new user records the address as their primary, verified allauth address: the
operator vouches for it, as an invitation's link would (sign-in by address, ``import_account``
and invitations match verified addresses only). An address another user holds is refused.
"""

from __future__ import annotations

import os
from typing import Any

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from accounts.management.options import account_from_option
from accounts.models import Account, UserProfile
from accounts.provisioning import add_member
from accounts.signals import password_reset_by_operator
from tenancy.commands import PlatformCommand


class Command(PlatformCommand):
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
        parser.add_argument("--existing", action="store_true",
                            help="The user may exist already: add them to the account.")
        parser.add_argument("--reset-password", action="store_true",
                            help="With --existing: set the existing user's password (audited).")

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
        existing = get_user_model().objects.filter(username__iexact=username).first()
        if existing is None:
            if options["reset_password"]:
                raise CommandError("--reset-password applies to an existing user only.")
            if options["email"] and EmailAddress.objects.filter(
                    email__iexact=options["email"]).exists():
                raise CommandError(f"the address {options['email']!r} belongs to another user.")
        else:
            username = existing.username
            self.check_existing(existing, account, password, options)
        with transaction.atomic():
            profile, created = add_member(
                account, username, email=options["email"], password=password, admin=options["admin"]
            )
            if created and options["email"]:
                try:
                    with transaction.atomic():
                        EmailAddress.objects.create(user=profile.user, email=options["email"],
                                                    verified=True, primary=True)
                except IntegrityError:  # another user took it meanwhile: nothing is created
                    raise CommandError(f"the address {options['email']!r} belongs to another "
                                       "user.") from None
            if existing is not None and password:
                password_reset_by_operator.send(sender=type(self), account_id=account.pk,
                                                user_id=existing.pk, username=username)
        verb = "created" if created else "added"
        self.stdout.write(f"{verb} {username} in {account.account_number} as {profile.role}"
                          + (" (password reset)" if existing is not None and password else ""))

    @staticmethod
    def check_existing(user: Any, account: Account, password: str | None, options: dict[str, Any]) -> None:
        """Refuse an existing user unless the options ask for exactly what will be done."""
        number = account.account_number
        if not options["existing"]:
            raise CommandError(
                f"user {user.username!r} already exists; pass --existing to add them to {number} "
                "(their password is kept unless --reset-password).")
        if options["reset_password"] and not password:
            raise CommandError(f"--reset-password needs the new password in ${options['password_env']}.")
        if password and not options["reset_password"]:
            raise CommandError(
                f"${options['password_env']} is set but {user.username!r} exists: pass --reset-password "
                "to change their password, or unset it.")
        profile = UserProfile.objects.filter(user=user, account=account).first()
        promote = options["admin"] and profile is not None and profile.role != UserProfile.ROLE_ADMIN
        if profile is not None and not password and not promote:
            raise CommandError(f"{user.username!r} is already a member of {number}: nothing to do.")
