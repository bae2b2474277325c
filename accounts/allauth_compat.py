"""The parts of django-allauth the project relies on that allauth keeps private
(``allauth.*.internal``), in one place: when allauth moves or changes one, this module and its
pinning tests (``tests/test_allauth_compat.py``) are what change. Where allauth publishes an
API that does the same, callers use it; the public ``perform_login`` builds its own ``Login``
(the hand-off passes one), and the public ``filter_users_by_email`` has no ``for_login`` and is
marked for deprecation, so the private ones are named here.

The login-flow functions import allauth lazily: its flows import the account adapter, which
is this project's (``identity.frontdoor.adapter``) and imports from here."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.userkit import filter_users_by_email, get_user_by_username
from allauth.core.internal import ratelimit as _ratelimit
from allauth.core.internal.ratelimit import Rate, get_cache_key, get_rates
from django.http import HttpRequest, HttpResponse

from tenancy.ratelimit import shared_or_local

__all__ = ["Rate", "get_cache_key", "get_rates", "filter_users_by_email", "get_user_by_username",
           "authentication_records", "clear_login", "complete_signup", "perform_login",
           "record_authentication", "pending_totp_secret", "totp_code_is_valid",
           "use_rate_limit_cache"]


def use_rate_limit_cache() -> None:
    """Make allauth's rate limits keep their counts in ``tenancy.ratelimit.shared_or_local``
    (the shared cache, per process while it is down) instead of the default cache: allauth
    reads the module's ``cache`` for its lock and its histories, and takes a lock it cannot
    get (the shared cache down) as a refusal."""
    _ratelimit.cache = shared_or_local  # type: ignore[assignment]


def authentication_records(request: HttpRequest, user: Any) -> list[dict[str, Any]]:
    """How the session's user signed in, oldest first: ``{"method": ..., "at": ...}`` dicts
    (``"password"``, ``"socialaccount"`` with its ``provider``, ``"mfa"``, the project's
    ``"handoff"``); [] for an anonymous user."""
    from allauth.account.internal.flows.login import get_authentication_records

    return list(get_authentication_records(request, user))


def record_authentication(request: HttpRequest, user: Any, method: str, **extra: Any) -> None:
    """Add one record to the session's authentication records."""
    from allauth.account.internal.flows.login import record_authentication as record

    record(request, user, method=method, **extra)


def clear_login(request: HttpRequest) -> None:
    """Forget a sign-in in progress (its stages and authentication records), so a refused one
    leaves nothing a later step could resume."""
    from allauth.account.internal.stagekit import clear_login as clear

    clear(request)


def perform_login(request: HttpRequest, login: Any) -> HttpResponse:
    """Sign ``login.user`` in through allauth's stages (the adapter's ``pre_login``, MFA)."""
    from allauth.account.internal.flows.login import perform_login as perform

    return perform(request, login)


def complete_signup(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """Finish a sign-up as allauth does (signals, email verification, then sign-in)."""
    from allauth.account.internal.flows.signup import complete_signup as complete

    return complete(request, **kwargs)


def pending_totp_secret() -> str:
    """The TOTP secret of the set-up in progress in this session (made once, then kept)."""
    from allauth.mfa.totp.internal.auth import get_totp_secret

    return str(get_totp_secret(regenerate=False))


def totp_code_is_valid(authenticator: Any, code: str) -> bool:
    """Whether ``code`` is a current code of the person's TOTP ``authenticator``."""
    from allauth.mfa.totp.internal.auth import TOTP

    return bool(TOTP(authenticator).validate_code(code))
