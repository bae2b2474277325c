from django.apps import AppConfig
from django.core import checks


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        # In ready(): the checks read the loaded models; the wall reads the settings.
        from .distribution import CHECK_TAG, check_distribution
        from .wall import on_connection_created
        from .wall_policy import check_registrations, check_wall_policies

        checks.register(check_distribution, CHECK_TAG)
        checks.register(check_wall_policies, CHECK_TAG)
        checks.register(check_registrations, CHECK_TAG)
        connection_created.connect(on_connection_created, dispatch_uid="tenancy.wall")

