from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "workspaces"
    verbose_name = "Workspaces"

    def ready(self) -> None:
        from . import signals  # noqa: F401 - connects the receivers (they import the models: ready() only)
