"""Admin: platform superusers restore closed accounts; exports are listed read-only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.admin import AccountAdmin, TenantScopedAdmin
from accounts.models import Account

from .closure import ClosureError, restore_account
from .models import DataExport


@admin.action(description="Restore the selected closed accounts")
def restore_accounts(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Account]) -> None:
    if not request.user.is_superuser:
        messages.error(request, "Only platform superusers can restore accounts.")
        return
    for account in queryset:
        try:
            restore_account(account)
        except ClosureError as exc:
            messages.warning(request, str(exc))
        else:
            messages.success(request, f"{account} restored.")


class LifecycleAccountAdmin(AccountAdmin):
    """The accounts admin plus closure: ``closed_at`` shown and filterable, and restoring."""

    actions = [restore_accounts]
    list_display = [*AccountAdmin.list_display, "closed_at"]
    list_filter = [*AccountAdmin.list_filter, "closed_at"]
    readonly_fields = [*AccountAdmin.readonly_fields, "closed_at"]

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        if not request.user.is_superuser:
            actions.pop("restore_accounts", None)
        return actions


admin.site.unregister(Account)
admin.site.register(Account, LifecycleAccountAdmin)


@admin.register(DataExport)
class DataExportAdmin(TenantScopedAdmin):
    list_display = ["created_at", "account", "requested_by", "status", "expires_at", "size"]
    list_filter = ["status"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in DataExport._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
