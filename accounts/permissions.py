"""Who may use the account admin console of the request's tenant."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase


def is_account_admin(request: HttpRequest) -> bool:
    """True for an active admin of the request's account, or a superuser."""
    user = request.user
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:
        return True
    profile = getattr(request, "user_profile", None)
    return profile is not None and profile.is_active and profile.is_staff


def account_admin_required(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Strangers go to this tenant's login page; signed-in non-admins get 403."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_account_admin(request):
            raise PermissionDenied("Account admins only.")
        return view(request, *args, **kwargs)

    return wrapped
