from typing import Any

from django.apps import AppConfig
from django.core import checks


class TenancyConfig(AppConfig):
    name = "tenancy"
    verbose_name = "Tenancy"

    def ready(self) -> None:
        from .distribution import CHECK_TAG, check_distribution

        checks.register(check_distribution, CHECK_TAG)
        _run_commands_as_operations()


def _run_commands_as_operations() -> None:
    """Every management command (``manage.py x`` and ``call_command``) runs as one operation
    labelled with its name, so changes it makes are attributed to it in the audit log."""
    import functools

    from django.core.management.base import BaseCommand

    from .operation import operation

    if getattr(BaseCommand.execute, "_runs_as_operation", False):
        return
    original = BaseCommand.execute

    @functools.wraps(original)
    def execute(self: BaseCommand, *args: Any, **options: Any) -> Any:
        with operation("command", label=type(self).__module__.rsplit(".", 1)[-1]):
            return original(self, *args, **options)

    execute._runs_as_operation = True  # type: ignore[attr-defined]
    BaseCommand.execute = execute  # type: ignore[method-assign]
