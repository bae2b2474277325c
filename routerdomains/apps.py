from django.apps import AppConfig


class RouterDomainsConfig(AppConfig):
    name = "routerdomains"
    verbose_name = "Router domains"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers (they import the models: ready() only)
