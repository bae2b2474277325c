"""Admin: each account's router domains (read-only, with "check now"); the owed removals
(platform superusers only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import TenantScopedAdmin

from .models import RouterDomain, RouterDomainRemoval
from .provisioning import sync_router_domain


@admin.action(description="Check the selected hosts now")
def check_now(modeladmin: Any, request: HttpRequest, queryset: QuerySet[RouterDomain]) -> None:
    for account_id, pk in queryset.values_list("account_id", "pk"):
        sync_router_domain.enqueue(account_id, pk)
    messages.success(request, "The check is queued; reload to see the states.")


@admin.register(RouterDomain)
class RouterDomainAdmin(TenantScopedAdmin):
    list_display = ["hostname", "account", "kind", "state", "acm_status", "attempts", "next_attempt_at"]
    list_filter = ["state", "kind"]
    search_fields = ["hostname"]
    actions = [check_now]
    readonly_fields = [f.name for f in RouterDomain._meta.fields]  # the provisioning writes them

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # recorded by the triggers only (account created, domain verified)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # removed with its domain or account, which owes the router the removal


@admin.register(RouterDomainRemoval)
class RouterDomainRemovalAdmin(admin.ModelAdmin):
    """Platform superusers read the owed removals; the worker and check_domains own the rows."""

    list_display = ["hostname", "account_number", "attempts", "next_attempt_at", "detail"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
