"""Django admin: superusers see everything, account staff only their own account's rows."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from .actions import members
from .caching import active_memberships
from .models import Account, AccountContact, UserProfile


def staff_account_ids(request: HttpRequest) -> list[int]:
    """Accounts the request's user administers, narrowed to the request's tenant."""
    ids = {m.account_id for m in active_memberships(request.user) if m.is_staff}
    tenant = getattr(request, "account", None)
    if tenant is not None:
        ids &= {tenant.pk}
    return sorted(ids)


class TenantScopedAdmin(admin.ModelAdmin):
    """Rows limited by an ``account`` lookup; account staff cannot reach other tenants."""

    account_lookup = "account_id"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.account_lookup}__in": staff_account_ids(request)})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser or bool(staff_account_ids(request))

    def _get_obj_does_not_exist_redirect(self, request: HttpRequest, opts: Any, object_id: str) -> Any:
        # Another tenant's row (or none at all): a plain 404, not a redirect whose message
        # would confirm that the id exists somewhere.
        raise Http404("No such object.")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, None)

    def _allowed(self, request: HttpRequest, obj: Any) -> bool:
        if request.user.is_superuser:
            return True
        ids = staff_account_ids(request)
        if obj is None:
            return bool(ids)
        return _account_id_of(obj, self.account_lookup) in ids

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            ids = staff_account_ids(request)
            if db_field.related_model is Account:
                kwargs["queryset"] = Account.objects.filter(pk__in=ids)
            elif db_field.related_model is UserProfile:
                kwargs["queryset"] = UserProfile.objects.filter(account_id__in=ids)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _account_id_of(obj: Any, lookup: str) -> Any:
    value = obj
    for part in lookup.split("__"):
        value = getattr(value, part)
    return value


@admin.register(Account)
class AccountAdmin(TenantScopedAdmin):
    account_lookup = "pk"
    list_display = ["account_number", "company_name", "is_default_account", "is_active"]
    list_filter = ["is_active", "is_default_account"]
    search_fields = ["account_number", "company_name"]
    # The SSO policy is set in the console (console.views.sso), which checks providers and two-factor.
    readonly_fields = ["account_number", "created_at", "updated_at", "require_sso", "sso_session_max_age"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(self.readonly_fields)
        if not request.user.is_superuser:
            fields += ["is_default_account", "is_active"]
        return fields


@admin.register(UserProfile)
class UserProfileAdmin(TenantScopedAdmin):
    list_display = ["user", "account", "role", "is_active", "is_test", "created_at"]
    list_filter = ["role", "is_active", "is_test"]
    search_fields = ["user__username", "user__email", "account__account_number"]
    raw_id_fields = ["user"]
    # Django 6 assumes https for scheme-less URLs; do so now (and silence its warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        """Nobody is attached here: members join by accepting an invitation (console or
        API), operators provision with ``create_user``."""
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["user", "account", "created_user"]

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        """The role and active flag are checked by the member actions' rules before saving."""
        form = super().get_form(request, obj, change, **kwargs)

        class MembershipForm(form):  # type: ignore[misc, valid-type]
            def clean(self) -> dict[str, Any]:
                data: dict[str, Any] = super().clean()
                if self.instance.pk is not None:
                    try:
                        members.check_change(self.instance, role=data.get("role"),
                                             active=data.get("is_active"), acting_user=request.user)
                    except members.MemberChangeRefused as exc:
                        raise ValidationError(exc.message) from None
                return data

        return MembershipForm

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Role and active flag through ``do_change_membership``; the other fields as usual."""
        if change and {"role", "is_active"} & set(form.changed_data):
            members.do_change_membership(obj, role=obj.role, active=obj.is_active,
                                         acting_user=request.user)
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        """Removal is ``do_remove_member`` (their rows go to an admin); refused memberships
        (the last active admin, one's own) offer no delete."""
        if not super().has_delete_permission(request, obj):
            return False
        if obj is None:
            return True
        try:
            members.check_removal(obj, acting_user=request.user)
        except members.MemberChangeRefused:
            return False
        return True

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        members.do_remove_member(obj, acting_user=request.user)

    def get_actions(self, request: HttpRequest) -> Any:
        """No bulk delete: each removal hands rows over and may be refused on its own."""
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(AccountContact)
class AccountContactAdmin(TenantScopedAdmin):
    list_display = ["email", "account", "first_name", "last_name", "is_primary"]
    list_filter = ["is_primary"]
    search_fields = ["email", "account__account_number"]
