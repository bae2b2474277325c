"""The console's Security page: the account's sign-in rules (required two-factor)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest

from ..forms import SecurityForm


@account_admin_required
def security(request: TenantRequest) -> HttpResponse:
    form = SecurityForm(request.POST or None, instance=request.account)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Two-factor authentication is now required of every member."
                         if form.instance.require_mfa else
                         "Two-factor authentication is now up to each member.")
        return redirect("security")
    return render(request, "console/security.html", {"form": form})
