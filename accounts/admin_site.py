"""The Django admin site of this project: its sign-in follows the tenant login's rules."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse

from .forms import TenantAdminAuthenticationForm
from .ratelimit import is_rate_limited


class TenantAdminSite(admin.AdminSite):
    """Sign-in limited to the host account's admins (or superusers), counted against the
    same per-account, per-address failure limit as the tenant login, and answered with 429
    (not 200) once that limit is reached."""

    login_form = TenantAdminAuthenticationForm

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None
              ) -> HttpResponse:
        response = super().login(request, extra_context)
        form = (getattr(response, "context_data", None) or {}).get("form")
        if form is not None and is_rate_limited(form):
            response.status_code = 429
        return response
