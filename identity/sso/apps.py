from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "identity.sso"
    label = "sso"
    verbose_name = "Single sign-on"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers (they import the models: ready() only)
