"""Members of the host's account read; account admins (or superusers) write."""

from __future__ import annotations

from typing import Any

from rest_framework import permissions

from accounts.models import ApiKey, UserProfile


def request_profile(request: Any) -> UserProfile | None:
    return getattr(request._request, "user_profile", None)


def is_api_admin(request: Any) -> bool:
    user = request.user
    if not user or not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    profile = request_profile(request)
    return bool(profile is not None and profile.is_active and profile.role == UserProfile.ROLE_ADMIN)


class IsAccountMember(permissions.BasePermission):
    """Authenticated with a key of this account (the authentication checked the account)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return bool(
            isinstance(request.auth, ApiKey)
            and request.user
            and request.user.is_authenticated
            and request_profile(request) is not None
        )


class IsAccountAdminOrReadOnly(IsAccountMember):
    message = "Account admins only."

    def has_permission(self, request: Any, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        return request.method in permissions.SAFE_METHODS or is_api_admin(request)


class IsAccountAdmin(IsAccountMember):
    message = "Account admins only."

    def has_permission(self, request: Any, view: Any) -> bool:
        return super().has_permission(request, view) and is_api_admin(request)
