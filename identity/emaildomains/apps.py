from django.apps import AppConfig


class EmailDomainsConfig(AppConfig):
    name = "identity.emaildomains"
    label = "emaildomains"
    verbose_name = "Verified email domains"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers (they import the models: ready() only)
