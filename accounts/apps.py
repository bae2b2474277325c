from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from . import receivers  # noqa: F401 - connects them (they import the models: ready() only)
        from .allauth_compat import use_rate_limit_cache

        use_rate_limit_cache()


class AccountsAdminConfig(admin_apps.AdminConfig):
    """``django.contrib.admin`` with ``TenantAdminSite`` as ``admin.site``."""

    default = False  # "accounts" itself is AccountsConfig
    default_site = "accounts.admin_site.TenantAdminSite"
