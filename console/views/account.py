"""The console's account details page."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest

from ..forms import AccountDetailsForm


@account_admin_required
def account_details(request: TenantRequest) -> HttpResponse:
    form = AccountDetailsForm(request.POST or None, instance=request.account)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Account details saved.")
        return redirect("account-details")
    return render(request, "console/account_details.html", {"form": form})
