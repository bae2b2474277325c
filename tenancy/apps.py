from typing import Any

from django.apps import AppConfig
from django.core import checks


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from .distribution import CHECK_TAG, check_distribution
        from .wall import on_connection_created
        from .wall_policy import check_wall_policies

        checks.register(check_distribution, CHECK_TAG)
        checks.register(check_wall_policies, CHECK_TAG)
        connection_created.connect(on_connection_created, dispatch_uid="tenancy.wall")
        _run_commands_as_operations()


def _run_commands_as_operations() -> None:
    """Every management command (``manage.py x`` and ``call_command``) runs as one operation
    labelled with its name, so changes it makes are attributed to it in the audit log, and in
    the database wall's platform mode (migrations, the worker, operators' commands: see
    ``tenancy.wall``; ``@tenant_task`` narrows a task to its tenant again)."""
    import functools

    from django.core.management.base import BaseCommand

    from .operation import operation
    from .wall import platform_mode

    if getattr(BaseCommand.execute, "_runs_as_operation", False):
        return
    original = BaseCommand.execute

    @functools.wraps(original)
    def execute(self: BaseCommand, *args: Any, **options: Any) -> Any:
        label = type(self).__module__.rsplit(".", 1)[-1]
        with platform_mode(f"command {label}"), operation("command", label=label):
            return original(self, *args, **options)

    execute._runs_as_operation = True  # type: ignore[attr-defined]
    BaseCommand.execute = execute  # type: ignore[method-assign]
