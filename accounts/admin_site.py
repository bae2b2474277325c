"""The Django admin site of this project: who may enter follows the account-admin role."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from tenancy.wall import crossing

from .forms import TenantAdminAuthenticationForm
from .permissions import is_account_admin
from .ratelimit import is_rate_limited


class TenantAdminSite(admin.AdminSite):
    """The admin of the request's host: open to that account's active admins (or superusers).

    Entry comes from the membership role of *this* host's account, never from the global
    ``User.is_staff`` (which belongs to operators): an admin of account A who is a plain
    member of B is sent to B's admin sign-in. The sign-in is counted against the same
    per-account, per-address failure limit as the tenant login, and answered with 429 (not
    200) once that limit is reached.
    """

    login_form = TenantAdminAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return is_account_admin(request)

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        """Every admin page; a superuser's (who sees every account's rows here) runs, and is
        rendered, inside the database wall's named crossing (``tenancy.wall``)."""
        inner = super().admin_view(view, cacheable)

        @functools.wraps(inner)
        def superuser_crossing(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if not request.user.is_superuser:
                return inner(request, *args, **kwargs)
            with crossing("the superuser's admin"):
                response = inner(request, *args, **kwargs)
                if callable(getattr(response, "render", None)) and not response.is_rendered:
                    response.render()
                return response

        return superuser_crossing

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None
              ) -> HttpResponse:
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if form is not None and is_rate_limited(form):
            response.status_code = 429
        return response
