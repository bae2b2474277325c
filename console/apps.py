from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The account admin console at /console/ on every tenant host: one layout, a page per job."""

    name = "console"
    verbose_name = "Console"
