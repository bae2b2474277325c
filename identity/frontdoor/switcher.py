"""The person's accounts, from the cached memberships (no query on a warm page): what the
bare domain's chooser lists, what the header's account switcher offers, and the one check
every hand-off a person asks for goes through."""

from __future__ import annotations

from typing import Any, NamedTuple

from django.conf import settings

from accounts.caching import active_memberships, get_cached_account
from accounts.models import Account


class Place(NamedTuple):
    """One account the person can move into, and their role there."""

    account: Account
    is_admin: bool


def places_of(user: Any) -> list[Place]:
    """The active memberships of ``user`` in active accounts other than the platform's
    default account (the bare domain is not moved into by hand-off), by company name."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    places = []
    for membership in active_memberships(user):
        account = get_cached_account(membership.account_id)
        if account is not None and account.is_active and not account.is_default_account:
            places.append(Place(account, membership.is_staff))
    return sorted(places, key=lambda p: (p.account.company_name.lower(), p.account.account_number))


def is_default_member(user: Any) -> bool:
    """Whether ``user`` is an active member of the platform's default account."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    accounts = (get_cached_account(m.account_id) for m in active_memberships(user))
    return any(a is not None and a.is_default_account for a in accounts)


def place_named(user: Any, account_number: str) -> Place | None:
    """The place of ``user`` in the account with this number, or None: a hand-off is issued
    only to an account where the person is an active member now."""
    return next((p for p in places_of(user) if p.account.account_number == account_number), None)


class Switcher(NamedTuple):
    """What the header shows: a few other accounts, and whether there are more."""

    places: list[Place]
    more: bool


def switcher_for(user: Any, here: Account | None) -> Switcher:
    """The header's account switcher: the person's accounts other than this host's, at most
    ``ACCOUNT_SWITCHER_SIZE`` (operators and people in many accounts get the chooser's link
    for the rest; nobody's header ever lists every account)."""
    others = [p for p in places_of(user) if here is None or p.account.pk != here.pk]
    size = settings.ACCOUNT_SWITCHER_SIZE
    return Switcher(others[:size], len(others) > size)
