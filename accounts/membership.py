"""Who may sign in on a tenant's host, and which user an email address names."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from .models import Account, UserProfile


def may_sign_in(user: Any, account: Account | None) -> bool:
    """Active platform superusers anywhere; others only as active members of ``account``."""
    if user is None or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return account is not None and UserProfile.objects.filter(
        user=user, account=account, is_active=True
    ).exists()


class AmbiguousEmail(Exception):
    """Several users share the address: never guess which one is meant."""


def user_for_email(email: str) -> Any | None:
    """The user who owns ``email`` as a *verified* allauth address, else None.

    Usernames and ``User.email`` are never matched: anyone can sign up with an address (or be
    named after one) without owning it, and an admin adding that address must not reach them.
    Raises AmbiguousEmail for several owners (never guess)."""
    from allauth.account.models import EmailAddress

    ids = set(EmailAddress.objects.filter(email__iexact=email.strip(), verified=True)
              .values_list("user_id", flat=True)[:2])
    if len(ids) > 1:
        raise AmbiguousEmail(email)
    return get_user_model().objects.get(pk=ids.pop()) if ids else None
