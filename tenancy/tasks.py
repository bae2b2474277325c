"""Background tasks that run inside one tenant's context (Django's tasks framework).

``@tenant_task`` makes a django-tasks ``Task`` of a module-level function whose first
argument is an account id. Whichever backend runs it (the immediate one in-process, the
database worker in production), the function runs inside :func:`tenancy.context.tenant_context`
for that account and as one :mod:`tenancy.operation` (source ``task``), so permission-scoped
querysets and the audit log behave exactly as in a request of that tenant.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from django_tasks import task
from django_tasks.signals import task_finished, task_started

from .context import tenant_context
from .operation import operation
from .wall import platform_mode

R = TypeVar("R")


def tenant_task(
    function: Callable[..., R] | None = None, **options: Any
) -> Any:
    """Decorate ``f(account_id, *args, **kwargs)`` as a Task run in that tenant's context.

    ``options`` go to ``django_tasks.task`` (``priority``, ``queue_name``, ``backend``).
    Arguments must be JSON-serialisable (the database backend stores them).
    """

    def decorate(func: Callable[..., R]) -> Any:
        @functools.wraps(func)
        def run(account_id: int, *args: Any, **kwargs: Any) -> R:
            if isinstance(account_id, bool) or not isinstance(account_id, int):
                raise TypeError(f"{func.__name__}: the first argument must be an account id")
            with tenant_context(account_id), operation("task", label=func.__name__):
                return func(account_id, *args, **kwargs)

        return task(**options)(run)

    return decorate(function) if function is not None else decorate


def platform_task(function: Callable[..., R]) -> Any:
    """A Task that is not about one tenant (e.g. the retention purges), run as an operation in
    the database wall's platform mode (every tenant's rows)."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> R:
        with platform_mode(f"task {function.__name__}"), tenant_context(None), \
                operation("task", label=function.__name__):
            return function(*args, **kwargs)

    return task(run)


_running_task: ContextVar[tuple[str, bool] | None] = ContextVar("running_task", default=None)


def current_task_id(stored: bool = False) -> str | None:
    """The id of the task this thread is running (None outside a task). With ``stored=True``,
    only a task kept in the database (``django_tasks_db``, which may run it again after its
    worker died); None for one the immediate backend runs in-process."""
    running = _running_task.get()
    if running is None or (stored and not running[1]):
        return None
    return running[0]


def _task_started(sender: Any, task_result: Any, **kwargs: Any) -> None:
    from django_tasks_db.backend import DatabaseBackend

    backend = sender if isinstance(sender, type) else type(sender)  # a class or an instance
    _running_task.set((str(task_result.id), issubclass(backend, DatabaseBackend)))


def _task_finished(sender: Any, task_result: Any, **kwargs: Any) -> None:
    _running_task.set(None)


task_started.connect(_task_started, dispatch_uid="tenancy.tasks.started")
task_finished.connect(_task_finished, dispatch_uid="tenancy.tasks.finished")
