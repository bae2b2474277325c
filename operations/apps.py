from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What operators watch: health, metrics, the task worker's heartbeat, the tasks page."""

    name = "operations"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from operations import checks  # noqa: F401 - registers the production checks
        from operations.crash import log_uncaught_exceptions

        log_uncaught_exceptions()
