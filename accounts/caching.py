"""Cache keys and cached loaders of accounts, users and profiles (one module, no loop).

Every lookup goes through :data:`tenancy.cache.tenant_cache` under an explicit key built
from ids; :mod:`accounts.receivers` invalidates those keys on save and delete. The models
(:mod:`accounts.models`) and the signals import from here; this module imports neither
(models are fetched from the app registry when a loader runs), so there is no import
circle. :mod:`accounts.utils` re-exports the seed API's names.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING, Any, NamedTuple

from django.apps import apps
from django.contrib.auth import get_user_model

from tenancy.cache import tenant_cache

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from .models import Account, UserProfile

logger = logging.getLogger(__name__)


def _account_model() -> type[Account]:
    return apps.get_model("accounts", "Account")  # type: ignore[return-value]


def _profile_model() -> type[UserProfile]:
    return apps.get_model("accounts", "UserProfile")  # type: ignore[return-value]


class Membership(NamedTuple):
    """What the permission checks need to know of one active profile."""

    profile_id: int
    account_id: int
    is_staff: bool


# --- cache keys: explicit, versioned by tenancy.cache, built from ids only
def account_pk_key(account_id: int) -> str:
    return f"account:pk:{int(account_id)}"


def account_number_key(account_number: str) -> str:
    return f"account:number:{account_number}"


DEFAULT_ACCOUNT_KEY = "account:default"
#: One shared key whose version token every process's cached unknown-number misses are
#: checked against; bumped when an account is created (accounts.receivers).
ACCOUNT_NUMBERS_KEY = "account:numbers"


def user_pk_key(user_id: int) -> str:
    return f"user:pk:{int(user_id)}"


def username_key(username: str) -> str:
    return "user:username:" + hashlib.sha256(username.encode("utf-8")).hexdigest()


def memberships_key(user_id: int) -> str:
    return f"memberships:user:{int(user_id)}"


def profile_key(user_id: int, account_id: int) -> str:
    return f"profile:user:{int(user_id)}:account:{int(account_id)}"


def profile_pk_key(profile_id: int) -> str:
    return f"profile:pk:{int(profile_id)}"


def admin_key(account_id: int) -> str:
    return f"admin:account:{int(account_id)}"


def _detached(instance: Any) -> Any:
    """The instance without related objects cached on it, so it pickles alone."""
    if instance is not None:
        instance._state.fields_cache = {}
        instance._prefetched_objects_cache = {}
    return instance



def get_cached_account(account_id: int | None = None, invalidate: bool = False) -> Account | None:
    """The Account with primary key ``account_id``, or None."""
    if account_id is None:
        return None
    return tenant_cache.get_or_load(
        account_pk_key(account_id),
        lambda: _account_model().objects.filter(pk=account_id).first(),
        invalidate=invalidate,
    )


def get_cached_account_by_number(
    account_number: str | None = None, invalidate: bool = False
) -> Account | None:
    """The Account with this number (active or not), or None.

    Numbers come from request hosts, so unknown ones are cached per process only (never in
    Redis) and are re-checked in every process as soon as any account is created.
    """
    if not account_number:
        return None
    return tenant_cache.get_or_load(
        account_number_key(account_number),
        lambda: _account_model().objects.filter(account_number=account_number).first(),
        invalidate=invalidate,
        miss_key=ACCOUNT_NUMBERS_KEY,
    )


def get_cached_default_account(invalidate: bool = False) -> Account:
    """The platform's default account. Raises Account.DoesNotExist if there is none."""
    account = tenant_cache.get_or_load(
        DEFAULT_ACCOUNT_KEY,
        lambda: _account_model().objects.filter(is_default_account=True).first(),
        invalidate=invalidate,
    )
    if account is None:
        raise _account_model().DoesNotExist(
            "No default account; run `python manage.py initialize_platform`."
        )
    return account


def get_cached_user_for_user_id(user_id: int | None = None, invalidate: bool = False) -> User | None:
    """The User with this id, or None (logged as an error)."""
    if user_id is None:
        return None
    user_model = get_user_model()
    user = tenant_cache.get_or_load(
        user_pk_key(user_id),
        lambda: _detached(user_model.objects.filter(pk=user_id).first()),
        invalidate=invalidate,
    )
    if user is None:
        logger.error("no user with id %s", user_id)
    return user


def get_cached_user_for_username(username: str | None = None, invalidate: bool = False) -> User:
    """The User with this username. Raises User.DoesNotExist (and logs) if there is none."""
    user_model = get_user_model()
    if username:
        user_id = tenant_cache.get_or_load(
            username_key(username),
            lambda: user_model.objects.filter(username=username)
            .values_list("pk", flat=True)
            .first(),
            invalidate=invalidate,
        )
        user = get_cached_user_for_user_id(user_id=user_id, invalidate=invalidate) if user_id else None
        if user is not None and user.username != username:  # renamed since it was cached
            return get_cached_user_for_username(username=username, invalidate=True)
        if user is not None:
            return user
    logger.error("no user with username %r", username)
    raise user_model.DoesNotExist(f"No user with username {username!r}")


def active_memberships(user: Any, invalidate: bool = False) -> list[Membership]:
    """The user's active profiles in active accounts (ids and role only)."""
    if user is None or getattr(user, "pk", None) is None:
        return []
    rows = tenant_cache.get_or_load(
        memberships_key(user.pk),
        lambda: [
            Membership(pk, account_id, role == _profile_model().ROLE_ADMIN)
            for pk, account_id, role in _profile_model().objects.filter(
                user_id=user.pk, is_active=True
            )
            .order_by("id")
            .values_list("pk", "account_id", "role")
        ],
        invalidate=invalidate,
    )
    live = []
    for membership in rows:
        account = get_cached_account(membership.account_id, invalidate=invalidate)
        if account is not None and account.is_active:
            live.append(membership)
    return live


def get_cached_profile(
    user_id: int, account_id: int, invalidate: bool = False
) -> UserProfile | None:
    """The (active or not) profile of a user in an account, or None."""
    return tenant_cache.get_or_load(
        profile_key(user_id, account_id),
        lambda: _detached(
            _profile_model().objects.filter(user_id=user_id, account_id=account_id).first()
        ),
        invalidate=invalidate,
    )


def get_cached_profile_by_pk(profile_id: int, invalidate: bool = False) -> UserProfile | None:
    """The profile with this primary key, or None."""
    return tenant_cache.get_or_load(
        profile_pk_key(profile_id),
        lambda: _detached(_profile_model().objects.filter(pk=profile_id).first()),
        invalidate=invalidate,
    )


def _active_admin_user_id(account_id: int) -> int | None:
    """The user id of the account's first active admin (an active user), or None."""
    return (
        _profile_model().objects.filter(
            account_id=account_id,
            role=_profile_model().ROLE_ADMIN,
            is_active=True,
            user__is_active=True,
        )
        .order_by("id")
        .values_list("user_id", flat=True)
        .first()
    )


def get_cached_smarter_admin_user_profile(invalidate: bool = False) -> UserProfile | None:
    """The platform (default account) admin's profile, or None when there is none.

    Only an active admin of the default account qualifies (its rows are readable by every
    tenant, so a plain member must never stand in), and nothing is ever created here.
    """
    try:
        account = get_cached_default_account(invalidate=invalidate)
    except _account_model().DoesNotExist:
        return None
    return get_cached_admin_profile(account.pk, invalidate=invalidate)


def get_cached_admin_profile(account_id: int, invalidate: bool = False) -> UserProfile | None:
    """The profile of the account's first active admin (an active user), or None.

    Cached under the account's admin key, which profile and user changes invalidate; never
    creates anyone.
    """
    user_id = tenant_cache.get_or_load(
        admin_key(account_id), lambda: _active_admin_user_id(account_id), invalidate=invalidate
    )
    if user_id is None:
        return None
    return get_cached_profile(user_id, account_id, invalidate=invalidate)
