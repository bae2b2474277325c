"""Where the database wall opens for management commands: every command runs in platform
mode (it is about no one tenant) and as one operation labelled with its name, so the audit
log attributes its changes to it. ``manage.py`` opens both for any command line (Django's
own commands included); the project's commands also open them themselves through
:class:`PlatformCommandMixin`, so ``call_command`` gets the same."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.management import execute_from_command_line
from django.core.management.base import BaseCommand

from .operation import operation
from .wall import platform_mode


class PlatformCommandMixin:
    """Run the command in platform mode, as one operation named after its module."""

    def execute(self, *args: Any, **options: Any) -> Any:
        label = type(self).__module__.rsplit(".", 1)[-1]
        with platform_mode(f"command {label}"), operation("command", label=label):
            return super().execute(*args, **options)  # type: ignore[misc]


class PlatformCommand(PlatformCommandMixin, BaseCommand):
    """The base of the project's own management commands."""


def run_command_line(argv: Sequence[str]) -> None:
    """``manage.py``: the command line's subcommand in platform mode, as one operation."""
    label = argv[1] if len(argv) > 1 else "help"
    with platform_mode(f"command {label}"), operation("command", label=label):
        execute_from_command_line(list(argv))
