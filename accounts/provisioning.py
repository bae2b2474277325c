"""Creating accounts and members: shared by the management commands and the demo loader."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction

from .actions.members import do_add_member, do_change_member_role
from .models import Account, UserProfile


def ensure_default_account(company_name: str = "Platform") -> tuple[Account, bool]:
    """The default account, created if missing.

    Safe under concurrent callers: when two create it at once, the single-default index
    rejects the second insert and that caller returns the winner's account.
    """
    account = Account.objects.filter(is_default_account=True).first()
    if account is not None:
        return account, False
    try:
        with transaction.atomic():
            return Account.objects.create(company_name=company_name, is_default_account=True), True
    except IntegrityError:
        account = Account.objects.filter(is_default_account=True).first()
        if account is None:  # not the default-account race: a real error
            raise
        return account, False


def add_member(
    account: Account,
    username: str,
    *,
    email: str = "",
    password: str | None = None,
    admin: bool = False,
    superuser: bool = False,
) -> tuple[UserProfile, bool]:
    """Make ``username`` a member of ``account``, creating the user if needed.

    An existing user's password is only changed when ``password`` is given. Returns the
    profile and whether the user was created.
    """
    user_model = get_user_model()
    with transaction.atomic():
        user, created = user_model.objects.get_or_create(
            username=username, defaults={"email": email}
        )
        changed = created
        if created or password:
            _set_password(user, password)
            changed = True
        if superuser and not user.is_superuser:
            user.is_superuser = True
            user.is_staff = True
            changed = True
        if email and not user.email:
            user.email = email
            changed = True
        if changed:  # an unchanged user is not written (re-running a command is a no-op)
            user.save()
        role = UserProfile.ROLE_ADMIN if admin or superuser else UserProfile.ROLE_MEMBER
        profile, made = do_add_member(account, user, role=role, created_user=created)
        if not made and (admin or superuser) and profile.role != role:
            profile = do_change_member_role(profile, role)
    return profile, created


def _set_password(user: User, password: str | None) -> None:
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
