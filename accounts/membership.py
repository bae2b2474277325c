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


def members_with_address(account: Account, email: str) -> list[Any]:
    """The users with a membership (active or not) of ``account`` who use ``email``: as their
    ``User.email`` or as any of their addresses, verified or not.

    Within its own account an address is vouched for by the account (its admins, its IdP and
    SCIM made these members), so this match is for that account's purposes only: "already a
    member" for an invitation, the member an SSO sign-in of the account's IdP is. Never a
    match across accounts (that needs :func:`user_for_email`, a *verified* address)."""
    from allauth.account.models import EmailAddress
    from django.db.models import Q

    email = email.strip()
    if not email:
        return []
    owners = EmailAddress.objects.filter(email__iexact=email).values("user_id")
    members = UserProfile.objects.filter(account=account).filter(
        Q(user__email__iexact=email) | Q(user_id__in=owners)).values("user_id")
    return list(get_user_model().objects.filter(pk__in=members).order_by("pk")[:2])
