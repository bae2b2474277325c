from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "domains"
    verbose_name = "Custom domains"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers (they import the models: ready() only)
