"""The accounts app's receivers: cache invalidation and the membership's last sign-in.

Receivers run after the transaction commits, so another process can never reload the
old row between the invalidation and the commit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone

from tenancy.cache import invalidate_with_commit

from . import caching
from .models import UserProfile

_invalidate = invalidate_with_commit


@receiver(post_save, sender="accounts.Account")
@receiver(post_delete, sender="accounts.Account")
def account_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    keys = [
        caching.account_pk_key(instance.pk),
        caching.account_number_key(instance.account_number),
        caching.DEFAULT_ACCOUNT_KEY,
        caching.admin_key(instance.pk),
    ]
    if kwargs.get("created"):  # every process's cached "unknown number" misses are stale
        keys.append(caching.ACCOUNT_NUMBERS_KEY)
    _invalidate(*keys)


@receiver(post_save, sender="accounts.UserProfile")
@receiver(post_delete, sender="accounts.UserProfile")
def user_profile_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    _invalidate(
        caching.memberships_key(instance.user_id),
        caching.profile_key(instance.user_id, instance.account_id),
        caching.profile_pk_key(instance.pk),
        caching.admin_key(instance.account_id),
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    keys = [
        caching.user_pk_key(instance.pk),
        caching.username_key(instance.username),
        caching.memberships_key(instance.pk),
    ]
    if "created" in kwargs:  # post_save: its profiles still exist
        account_ids = instance.user_profile.values_list("account_id", flat=True)
        keys += [caching.admin_key(a) for a in account_ids]
        keys += [caching.profile_key(instance.pk, a) for a in account_ids]
    _invalidate(*keys)


@receiver(post_save, sender="accounts.AccountContact")
@receiver(post_delete, sender="accounts.AccountContact")
def account_contact_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    _invalidate(caching.account_pk_key(instance.account_id))


@receiver(user_logged_in, dispatch_uid="accounts.membership_sign_in")
def membership_signed_in(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """Note the sign-in on the membership of the host's account only: an account's admins see
    when their members last came to *this* account, never their sign-ins elsewhere
    (``User.last_login`` is global)."""
    account = getattr(request, "account", None)
    if account is None or user is None or user.pk is None:
        return
    # update(): no save signals, no audit row, no cache invalidation for a timestamp
    UserProfile.objects.filter(user_id=user.pk, account_id=account.pk).update(
        last_sign_in_at=timezone.now())
