"""The console's API keys page: create (the key is shown once) and revoke."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from tenancy.validators import validate_single_line

from .models import ApiKey, UserProfile
from .permissions import account_admin_required
from .requests import TenantRequest


class ApiKeyForm(forms.Form):
    name = forms.CharField(max_length=255, validators=[validate_single_line])
    owner = forms.ModelChoiceField(queryset=UserProfile.objects.none(), required=False,
                                   help_text="Whose permissions the key carries; default: you.")
    expires_days = forms.IntegerField(min_value=1, max_value=3650, required=False,
                                      label="Expires in days", help_text="Empty: never.")

    def __init__(self, *args: object, account: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["owner"].queryset = (  # type: ignore[attr-defined]
            UserProfile.objects.filter(account=account, is_active=True, user__is_active=True)
            .select_related("user").order_by("user__username")
        )
        self.fields["owner"].label_from_instance = lambda p: p.user.username  # type: ignore[attr-defined]


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
    response = render(request, "accounts/api_keys.html", {"keys": keys, "form": form, "new_key": new_key})
    if new_key:
        response["Cache-Control"] = "no-store"
    return response


@require_POST
@account_admin_required
def api_key_revoke(request: TenantRequest, pk: int) -> HttpResponse:
    key = get_object_or_404(_keys(request), pk=pk)
    if key.is_active:
        key.revoke()
    messages.success(request, f"Key {key.prefix} revoked.")
    return redirect("api-keys")
