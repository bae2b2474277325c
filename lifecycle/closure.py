"""Closing, restoring and purging an account.

Closing makes the account inactive at once (its hosts answer 404, its API keys 401) and
stamps ``closed_at``. ``purge_account`` deletes every row that carries the account's id, in
every table with a foreign key to Account (found by introspection, so models added later
are covered), the export files and folder, and the users the account itself created who
belong to no other account (never staff or superusers), with their sessions.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore as DbStore
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models.deletion import ProtectedError, RestrictedError
from django.utils import timezone

from accounts.models import Account, UserProfile
from audit.guard import purging
from audit.recorder import action_as, record, suppressed
from tenancy.wall import crosses

from .models import DataExport

logger = logging.getLogger(__name__)


class ClosureError(Exception):
    """The account cannot be closed, restored or purged (the message says why)."""


def account_columns() -> list[tuple[type[models.Model], str]]:
    """Every (model, field name) whose field is a foreign key to Account."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if field.is_relation and field.related_model is Account and model is not Account:
                found.append((model, field.name))
    return found


def purge_due(account: Account, now: Any = None, retention_days: int | None = None) -> bool:
    """Whether a closed account's retention period (``retention_days``, default the
    setting) is over."""
    if account.closed_at is None or account.is_active:
        return False
    days = settings.ACCOUNT_CLOSURE_RETENTION_DAYS if retention_days is None else retention_days
    retention = timedelta(days=days)
    return account.closed_at + retention <= (now or timezone.now())


def close_account(account: Account) -> Account:
    """Close ``account`` now (the caller checked who asks and their confirmation)."""
    if account.is_default_account:
        raise ClosureError("The platform's default account can never be closed.")
    if account.closed_at is not None:
        raise ClosureError("This account is already closed.")
    with transaction.atomic(), action_as(account, "closed"):
        account.is_active = False
        account.closed_at = timezone.now()
        account.save(update_fields=["is_active", "closed_at", "updated_at"])
    return account


def restore_account(account: Account) -> Account:
    """Reopen a closed account before it is purged (platform superusers only)."""
    if account.closed_at is None:
        raise ClosureError(f"Account {account.account_number} is not closed.")
    with transaction.atomic(), action_as(account, "restored"):
        account.is_active = True
        account.closed_at = None
        account.save(update_fields=["is_active", "closed_at", "updated_at"])
    return account


def delete_sessions_of(user_ids: set[int]) -> int:
    """Delete the stored sessions signed in as any of ``user_ids``; how many.

    Sessions are not indexed by user, so the table is read once (a purge is rare); only
    database-backed session engines can be searched this way."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not user_ids or not issubclass(store, DbStore):
        return 0
    wanted = {str(pk) for pk in user_ids}
    doomed = [s.pk for s in Session.objects.iterator()
              if str(s.get_decoded().get("_auth_user_id")) in wanted]
    return Session.objects.filter(pk__in=doomed).delete()[0] if doomed else 0


def _remove_export_dir(account_number: str) -> None:
    """The account's (now empty) export folder, when the storage is a local folder."""
    try:
        folder = default_storage.path(f"exports/{account_number}")
    except NotImplementedError:  # a remote storage has no folders to leave behind
        return
    try:
        os.rmdir(folder)
    except FileNotFoundError:
        pass
    except OSError:
        logger.warning("export folder of account %s is not empty; left in place", account_number)


@crosses("the purge of a closed account: its users' other memberships, a platform-level event")
def purge_account(account_id: int) -> dict[str, int]:
    """Delete every row of the account, its export files and its users who belong nowhere else.

    Returns the number of rows deleted per model label. Writes one platform-level audit
    event (``account.purged``); the account's own events go with it.
    """
    account = Account.objects.get(pk=account_id)
    if account.is_default_account:
        raise ClosureError("The platform's default account can never be purged.")
    # Only users this account created (sign-up, invitation to a new address, its commands):
    # a person who existed before and was invited keeps their user, and operators always do.
    user_ids = set(UserProfile.objects.filter(account_id=account_id, created_user=True)
                   .values_list("user_id", flat=True))
    files = list(DataExport.objects.filter(account_id=account_id).exclude(file_name="")
                 .values_list("file_name", flat=True))
    counts: Counter[str] = Counter()
    with transaction.atomic(), suppressed(), purging():  # the account's audit events too
        pending = account_columns()
        while pending:  # PROTECT/RESTRICT between tenant tables: retry the blocked ones
            blocked = []
            for model, field in pending:
                try:
                    with transaction.atomic():
                        _, per_model = model._base_manager.filter(**{field: account_id}).delete()
                except (ProtectedError, RestrictedError):
                    blocked.append((model, field))
                    continue
                counts.update(per_model)
            if len(blocked) == len(pending):
                raise ClosureError(f"rows of {blocked} cannot be deleted")
            pending = blocked
        orphans = get_user_model()._base_manager.filter(pk__in=user_ids, is_superuser=False,
                                                        is_staff=False)
        orphan_ids = set(orphans.exclude(user_profile__isnull=False).values_list("pk", flat=True))
        _, per_model = get_user_model()._base_manager.filter(pk__in=orphan_ids).delete()
        counts.update(per_model)
        sessions = delete_sessions_of(orphan_ids)
        if sessions:
            counts["sessions.Session"] += sessions
        _, per_model = Account.objects.filter(pk=account_id).delete()
        counts.update(per_model)
        result = {k: v for k, v in sorted(counts.items()) if v}
    with transaction.atomic():
        record("account.purged", account_id=None, target_kind="accounts.account",
               target_id=account_id, target_repr=account.account_number,
               changes={"deleted": result})
    for name in files:
        default_storage.delete(name)
    _remove_export_dir(account.account_number)
    logger.info("purged account %s: %s", account.account_number, result)
    return result
