from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "lifecycle"
    verbose_name = "Tenant lifecycle"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers (they import the models: ready() only)
