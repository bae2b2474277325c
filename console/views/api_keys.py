"""The console's API keys page: create (the key is shown once) and revoke."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from accounts.models import ApiKey
from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest

from ..forms import ApiKeyForm


def _keys(request: TenantRequest):  # type: ignore[no-untyped-def]
    return ApiKey.objects.with_ownership_permission_for(request.user).filter(account=request.account)


@account_admin_required
def api_keys(request: TenantRequest) -> HttpResponse:
    form = ApiKeyForm(request.POST or None, account=request.account)
    new_key = None
    if request.method == "POST" and form.is_valid():
        owner = form.cleaned_data["owner"] or request.user_profile
        if owner is None:
            form.add_error("owner", "Choose the member whose key this is.")
        else:
            days = form.cleaned_data["expires_days"]
            key, new_key = ApiKey.create(
                owner, form.cleaned_data["name"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
            )
            messages.success(request, f"Key {key.prefix} created. Copy it now: it is not shown again.")
            form = ApiKeyForm(account=request.account)
    keys = _keys(request).select_related("user_profile__user").order_by("-created_at", "-id")
    response = render(request, "console/api_keys.html", {"keys": keys, "form": form, "new_key": new_key})
    if new_key:
        response["Cache-Control"] = "no-store"
    return response


@account_admin_required
def api_key_revoke(request: TenantRequest, pk: int) -> HttpResponse:
    """GET: asks to confirm; POST: revokes the key for good."""
    key = get_object_or_404(_keys(request).select_related("user_profile__user"), pk=pk)
    if request.method != "POST":
        return render(request, "console/api_key_revoke.html", {"key": key})
    if key.is_active:
        key.revoke()
    messages.success(request, f"Key {key.prefix} revoked.")
    return redirect("api-keys")
