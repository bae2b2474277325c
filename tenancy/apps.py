from django.apps import AppConfig
from django.core import checks


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from .distribution import CHECK_TAG, check_distribution

        checks.register(check_distribution, CHECK_TAG)
