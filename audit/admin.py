"""The audit log in the Django admin: read-only; account admins see their account's events."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.admin import TenantScopedAdmin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(TenantScopedAdmin):
    list_display = ["created_at", "account", "actor", "source", "action", "target_kind",
                    "target_id", "target_repr"]
    list_filter = ["source", "action", "target_kind"]
    search_fields = ["actor_username", "target_repr", "target_id", "request_id"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
