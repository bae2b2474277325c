"""Account signals: the ``user_profile_created`` signal and cache-invalidation receivers.

Receivers run after the transaction commits, so another process can never reload the
old row between the invalidation and the commit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from tenancy.cache import invalidate_with_commit

#: Sent after a UserProfile is first saved. Arguments: ``user_profile``.
user_profile_created = Signal()


_invalidate = invalidate_with_commit


@receiver(post_save, sender="accounts.Account")
@receiver(post_delete, sender="accounts.Account")
def account_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from . import utils

    keys = [
        utils.account_pk_key(instance.pk),
        utils.account_number_key(instance.account_number),
        utils.DEFAULT_ACCOUNT_KEY,
        utils.admin_key(instance.pk),
    ]
    if kwargs.get("created"):  # every process's cached "unknown number" misses are stale
        keys.append(utils.ACCOUNT_NUMBERS_KEY)
    _invalidate(*keys)


@receiver(post_save, sender="accounts.UserProfile")
@receiver(post_delete, sender="accounts.UserProfile")
def user_profile_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from . import utils

    _invalidate(
        utils.memberships_key(instance.user_id),
        utils.profile_key(instance.user_id, instance.account_id),
        utils.profile_pk_key(instance.pk),
        utils.admin_key(instance.account_id),
    )
    _sync_staff_flag(instance.user_id)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
@receiver(post_delete, sender=settings.AUTH_USER_MODEL)
def user_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from . import utils

    update_fields = kwargs.get("update_fields")
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    keys = [
        utils.user_pk_key(instance.pk),
        utils.username_key(instance.username),
        utils.memberships_key(instance.pk),
    ]
    if "created" in kwargs:  # post_save: its profiles still exist
        account_ids = instance.user_profile.values_list("account_id", flat=True)
        keys += [utils.admin_key(a) for a in account_ids]
        keys += [utils.profile_key(instance.pk, a) for a in account_ids]
    _invalidate(*keys)


@receiver(post_save, sender="accounts.AccountContact")
@receiver(post_delete, sender="accounts.AccountContact")
def account_contact_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from . import utils

    _invalidate(utils.account_pk_key(instance.account_id))


def _sync_staff_flag(user_id: int) -> None:
    """Give Django-admin access (``is_staff``) exactly to users who admin some account."""
    from django.contrib.auth import get_user_model

    from .models import UserProfile

    user_model = get_user_model()
    is_admin = UserProfile.objects.filter(
        user_id=user_id, role=UserProfile.ROLE_ADMIN, is_active=True
    ).exists()
    changed = (
        user_model.objects.filter(pk=user_id, is_superuser=False)
        .exclude(is_staff=is_admin)
        .update(is_staff=is_admin)
    )
    if changed:
        from . import utils

        _invalidate(utils.user_pk_key(user_id))
