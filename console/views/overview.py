"""The console's first page: the account at a glance."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from accounts import usage
from accounts.models import AccountContact, UserProfile
from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest


@account_admin_required
def console(request: TenantRequest) -> HttpResponse:
    return render(request, "console/overview.html", {
        "member_count": UserProfile.objects.filter(account=request.account).count(),
        "contact_count": AccountContact.objects.filter(account=request.account).count(),
        "usage": usage.daily(request.account.pk, days=7),
    })
