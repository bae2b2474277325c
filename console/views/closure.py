"""The console's danger zone: closing the account."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponse
from django.shortcuts import render

from accounts.permissions import account_admin_required
from accounts.ratelimit import is_rate_limited
from accounts.requests import TenantRequest
from lifecycle.closure import ClosureError, close_account
from lifecycle.forms import CloseAccountForm


@account_admin_required
def account_close(request: TenantRequest) -> HttpResponse:
    form = CloseAccountForm(request.POST or None, account=request.account, request=request)
    if request.method == "POST" and form.is_valid():
        try:
            account = close_account(request.account)
        except ClosureError as exc:
            form.add_error(None, str(exc))
        else:
            logout(request)
            return render(request, "lifecycle/closed.html", {"closed_account": account})
    return render(request, "console/close.html", {
        "form": form, "retention_days": settings.ACCOUNT_CLOSURE_RETENTION_DAYS,
    }, status=429 if is_rate_limited(form) else 200)
