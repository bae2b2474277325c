from django.contrib import admin

from accounts.admin import TenantScopedAdmin

from .models import Workspace


@admin.register(Workspace)
class WorkspaceAdmin(TenantScopedAdmin):
    list_display = ["name", "account", "user_profile", "is_public", "created_at"]
    list_filter = ["is_public"]
    search_fields = ["name"]
