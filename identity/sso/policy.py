"""Required SSO (``Account.require_sso``): who must use the account's identity providers.

Members sign in only through them: a password sign-in (also the one that ends a reset or an
invitation) is refused with a clear page, and no reset mail is sent to them. Account admins
and platform superusers keep password + two-factor as break-glass. API keys are unaffected
(they never sign in). While the account has no enabled provider nothing is required.
The rule itself is :mod:`identity.trust`'s; every request's session is held to it by
``middleware.sso_session``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.allauth_compat import clear_login
from accounts.models import Account, UserProfile
from identity import trust
from identity.trust import sso_required as sso_required  # the one rule, named here too


def sso_required_for(user: Any, account: Account | None) -> bool:
    """Whether ``user`` may sign in to ``account`` through its identity providers only
    (:func:`identity.trust.sso_enforced`, with the user's role read from the database)."""
    if user is None or not sso_required(account):
        return False
    is_admin = UserProfile.objects.filter(user=user, account=account, role=UserProfile.ROLE_ADMIN,
                                          is_active=True).exists()
    return trust.sso_enforced(account, is_admin=is_admin,
                              is_superuser=bool(getattr(user, "is_superuser", False)))


def sso_required_page(request: HttpRequest, status: int = 403) -> HttpResponse:
    """The clear page: sign in with the account's identity provider(s)."""
    return render(request, "sso/required.html", {"status": status}, status=status)


def refuse_password_sign_in(request: HttpRequest, user: Any, **kwargs: Any) -> HttpResponse | None:
    """For the account adapter's ``pre_login``: a non-SSO sign-in of a member who must use SSO."""
    if (kwargs.get("signal_kwargs") or {}).get("sociallogin") is not None:
        return None
    if not sso_required_for(user, getattr(request, "account", None)):
        return None
    clear_login(request)
    return sso_required_page(request)
