"""API keys in the Django admin: listed and revoked per tenant; created in the console or by
``create_api_key`` (where the raw key can be shown once)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.admin import TenantScopedAdmin
from accounts.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(TenantScopedAdmin):
    list_display = ["prefix", "name", "account", "user_profile", "is_active", "expires_at",
                    "last_used_at", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["prefix", "name"]
    fields = ["name", "prefix", "user_profile", "is_active", "expires_at", "last_used_at",
              "revoked_at", "created_at"]
    readonly_fields = ["name", "prefix", "user_profile", "is_active", "expires_at",
                       "last_used_at", "revoked_at", "created_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the raw key could not be shown; use the console or create_api_key

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        for key in queryset.filter(is_active=True):
            key.revoke()
        self.message_user(request, "Keys revoked.")
