"""The account utilities of the seed API: cached lookups of accounts, users and profiles.

The cache keys and cached loaders live in :mod:`accounts.caching` (imported by the models
and signals without a loop) and are re-exported here; this module adds the seed functions
that need the models. ``invalidate=True`` bypasses and refreshes the cache. Nothing here
ever creates a superuser.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from tenancy.cache import tenant_cache
from tenancy.hosts import account_number_in_host

from .caching import (
    ACCOUNT_NUMBERS_KEY,
    DEFAULT_ACCOUNT_KEY,
    Membership,
    _active_admin_user_id,
    account_number_key,
    account_pk_key,
    active_memberships,
    admin_key,
    get_cached_account,
    get_cached_account_by_number,
    get_cached_admin_profile,
    get_cached_default_account,
    get_cached_profile,
    get_cached_profile_by_pk,
    get_cached_smarter_admin_user_profile,
    get_cached_user_for_user_id,
    get_cached_user_for_username,
    memberships_key,
    profile_key,
    profile_pk_key,
    user_pk_key,
    username_key,
)
from .models import Account, UserProfile

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

__all__ = [
    "ACCOUNT_NUMBERS_KEY",
    "DEFAULT_ACCOUNT_KEY",
    "Membership",
    "account_number_from_url",
    "account_number_key",
    "account_pk_key",
    "active_memberships",
    "admin_key",
    "get_cached_account",
    "get_cached_account_by_number",
    "get_cached_account_for_user",
    "get_cached_admin_profile",
    "get_cached_admin_user_for_account",
    "get_cached_default_account",
    "get_cached_profile",
    "get_cached_profile_by_pk",
    "get_cached_smarter_admin_user_profile",
    "get_cached_user_for_user_id",
    "get_cached_user_for_username",
    "get_user_profiles_for_account",
    "get_users_for_account",
    "memberships_key",
    "profile_key",
    "profile_pk_key",
    "user_pk_key",
    "username_key",
    "valid_resource_owners_for_user",
]


# --- seed functions
def account_number_from_url(url: str | None = None, invalidate: bool = False) -> str | None:
    """The account number in ``url``'s host (never its path or query), or None.

    Accepts a full URL or a bare host. Parsing is pure, so the result is memoised per host
    in a bounded LRU; ``invalidate`` is accepted for API compatibility.
    """
    if url is None:
        return None
    if not isinstance(url, str):
        raise TypeError("url must be a string")
    return account_number_in_host(_host_of(url))


def _host_of(url: str) -> str:
    rest = url.split("://", 1)[1] if "://" in url else url
    for sep in "/?#":
        rest = rest.split(sep, 1)[0]
    return rest.rsplit("@", 1)[-1]


def get_cached_account_for_user(user: Any = None, invalidate: bool = False) -> Account | None:
    """The user's (first active) account, or None with a warning."""
    memberships = active_memberships(user, invalidate=invalidate)
    if not memberships:
        logger.warning("no account for user %s", getattr(user, "pk", None))
        return None
    return get_cached_account(memberships[0].account_id, invalidate=invalidate)


def get_cached_admin_user_for_account(account: Account, invalidate: bool = False) -> User:
    """The account's admin user: its first active admin, never a plain member.

    If the account has no active admin, a new account admin (never superuser) with an
    unusable password is created. Raises ValueError for a missing or unsaved account.
    """
    if not isinstance(account, Account) or account.pk is None:
        raise ValueError("get_cached_admin_user_for_account needs a saved Account")
    user_id = tenant_cache.get_or_load(
        admin_key(account.pk), lambda: _active_admin_user_id(account.pk), invalidate=invalidate
    )
    user = get_cached_user_for_user_id(user_id=user_id, invalidate=invalidate) if user_id else None
    if user is not None and user.is_active:
        return user
    if not invalidate:  # none cached, or the cached admin went away: ask the database
        return get_cached_admin_user_for_account(account, invalidate=True)
    logger.warning("account %s has no active admin; creating one", account.account_number)
    return UserProfile.create_admin_for_account(account)


def get_user_profiles_for_account(account: Account) -> list[UserProfile] | None:
    """The account's profiles, or None when it has none. Raises ValueError without account."""
    if account is None:
        raise ValueError("account is required")
    profiles = list(UserProfile.objects.filter(account=account).select_related("user"))
    return profiles or None


def get_users_for_account(account: Account) -> list[User]:
    """The account's users (an empty list when none). Raises ValueError without account."""
    if account is None:
        raise ValueError("account is required")
    return [
        p.user
        for p in UserProfile.objects.filter(account=account).select_related("user").order_by("id")
    ]


def valid_resource_owners_for_user(user_profile: UserProfile | None) -> list[UserProfile]:
    """Profiles that may own resources the given profile creates: its account's members."""
    if user_profile is None:
        return []
    return list(
        UserProfile.objects.filter(
            account_id=user_profile.account_id, is_active=True, user__is_active=True
        )
        .select_related("user")
        .order_by("id")
    )
