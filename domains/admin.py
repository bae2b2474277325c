from django.contrib import admin

from accounts.admin import TenantScopedAdmin, staff_account_ids
from workspaces.models import Workspace

from .models import Domain


@admin.register(Domain)
class DomainAdmin(TenantScopedAdmin):
    list_display = ["hostname", "account", "status", "is_canonical", "verified_at", "last_checked_at"]
    list_filter = ["status", "is_canonical"]
    search_fields = ["hostname"]
    fields = ["hostname", "user_profile", "workspace", "is_canonical", "status", "token", "verified_at",
              "last_checked_at", "failing_since", "last_check_detail", "cname_target"]
    readonly_fields = ["status", "token", "verified_at", "last_checked_at", "failing_since",
                       "last_check_detail", "cname_target"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # the hostname is immutable once added; is_canonical moves through the console/API
        extra = ["hostname", "is_canonical"] if obj is not None else ["is_canonical"]
        return [*extra, *self.readonly_fields]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):  # type: ignore[no-untyped-def]
        if db_field.related_model is Workspace and not request.user.is_superuser:
            kwargs["queryset"] = Workspace.objects.filter(account_id__in=staff_account_ids(request))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
