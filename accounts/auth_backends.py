"""The one authentication backend: allauth's, checking exactly one password per attempt.

Django's ModelBackend beside allauth's made a sign-in with a username hash twice for a known
user (both backends checked it) and an address login three times (allauth tried the address
as a username and as an email), against two dummy hashes for an unknown login: a timing
oracle. Here each attempt picks at most one candidate user and checks its password once, or
hashes a dummy password once when there is none (allauth's mitigation), so known and unknown
logins cost the same.
"""

from __future__ import annotations

from typing import Any

from allauth.account import app_settings
from allauth.account.app_settings import LoginMethod
from allauth.account.auth_backends import AuthenticationBackend
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest

from .allauth_compat import filter_users_by_email, get_user_by_username


class SingleCheckAuthenticationBackend(AuthenticationBackend):
    """allauth's backend (username or email, inactive users stashed for allauth's page,
    Django's permissions) with one password check per attempt."""

    def _authenticate(self, request: HttpRequest | None, **credentials: Any) -> AbstractBaseUser | None:
        return self._check_password(candidate(credentials), credentials.get("password") or "")


def candidate(credentials: dict[str, Any]) -> AbstractBaseUser | None:
    """The one user a login names: for an address, its verified owner (else the only user
    with it); otherwise, or when the address names nobody, the user with that username."""
    username = credentials.get("username") or ""
    address = credentials.get("email") or (username if "@" in username else "")
    if address and LoginMethod.EMAIL in app_settings.LOGIN_METHODS:
        users = filter_users_by_email(address, prefer_verified=True, for_login=True)
        if len(users) == 1:
            return users[0]
    if username and LoginMethod.USERNAME in app_settings.LOGIN_METHODS:
        return get_user_by_username(username)
    return None
