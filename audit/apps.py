from django.apps import AppConfig
from django.db.backends.signals import connection_created


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        # In ready(): these modules import the models of this app and others.
        from . import receivers  # noqa: F401 - connects them
        from .guard import register_sqlite_function
        from .signals import register_configured_models

        register_configured_models()
        connection_created.connect(register_sqlite_function, dispatch_uid="audit_purge_allowed")
