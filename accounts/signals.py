"""Account signals: the ``user_profile_created`` signal and cache-invalidation receivers.

Receivers run after the transaction commits, so another process can never reload the
old row between the invalidation and the commit.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from tenancy.cache import tenant_cache

#: Sent after a UserProfile is first saved. Arguments: ``user_profile``.
user_profile_created = Signal()


def _invalidate(*keys: str) -> None:
    tenant_cache.invalidate(*keys)
    if transaction.get_connection().in_atomic_block:
        # Again once committed: another process may have reloaded the old row meanwhile.
        transaction.on_commit(lambda: tenant_cache.invalidate(*keys))


@receiver(post_save, sender="accounts.Account")
@receiver(post_delete, sender="accounts.Account")
def account_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    from . import utils

    _invalidate(
        utils.account_pk_key(instance.pk),
        utils.account_number_key(instance.account_number),
        utils.DEFAULT_ACCOUNT_KEY,
        utils.admin_key(instance.pk),
    )


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

