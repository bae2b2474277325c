"""Sentry and OpenTelemetry in the task worker (``manage.py db_worker``), each on only when
configured, as in the web processes (:mod:`operations.telemetry`).

Errors: a failed task is logged by django-tasks with ``logger.exception`` while its exception
is being handled; sentry-sdk's logging integration turns that record into an event, which
carries the task's name, id and queue as tags (``before_send`` reads :func:`current_task`).
Traces: every task runs inside a ``task <name>`` span (kind CONSUMER; status ERROR with the
exception recorded when it fails), so the task's own psycopg and redis spans are its children.
The span is opened and closed by django-tasks' ``task_started`` / ``task_finished`` signals,
which the worker sends around each task in the one thread that runs it.
"""

from __future__ import annotations

import sys
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django_tasks import TaskResult, TaskResultStatus
from django_tasks.signals import task_finished, task_started

from operations import telemetry


@dataclass
class RunningTask:
    """The task the worker is running, and its open span (None without tracing)."""

    task_result: TaskResult
    span: Any = None
    context_token: Any = None


_current: ContextVar[RunningTask | None] = ContextVar("current_task", default=None)
_tracer: list[Any] = []  # the worker's tracer once tracing is set up


def current_task() -> RunningTask | None:
    """The task this worker is running, if any."""
    return _current.get()


def task_tags(task_result: TaskResult) -> dict[str, str]:
    """What names a task run in error reports and spans (never its arguments)."""
    return {"task": task_result.task.module_path, "task_id": str(task_result.id),
            "queue": task_result.task.queue_name, "backend": task_result.backend}


def setup_worker(exporter: Any = None) -> None:
    """Sentry when ``SENTRY_DSN`` is set, traces when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is (or
    into ``exporter``, for tests); a span and error tags per task when either is on."""
    if settings.SENTRY_DSN:
        telemetry.init_sentry(settings.SENTRY_DSN, event_filter=before_send)
    if settings.OTEL_EXPORTER_OTLP_ENDPOINT or exporter is not None:
        from opentelemetry import trace

        provider = telemetry.init_tracing(exporter)
        _tracer[:] = [trace.get_tracer("smarter.tasks", tracer_provider=provider)]
    if settings.SENTRY_DSN or _tracer:
        task_started.connect(started, dispatch_uid="operations.observability.started")
        task_finished.connect(finished, dispatch_uid="operations.observability.finished")


def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    """The web processes' ``before_send`` (redaction), with the running task's tags."""
    running = _current.get()
    if running is not None:
        event.setdefault("tags", {}).update(task_tags(running.task_result))
    return telemetry.before_send(event, hint)


def started(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
    """Open the task's span (current until the task finishes)."""
    stale = _current.get()
    if stale is not None:  # the previous task never reported its end
        _close(stale, None)
    running = RunningTask(task_result)
    if _tracer:
        from opentelemetry import context, trace
        from opentelemetry.trace import SpanKind

        running.span = _tracer[0].start_span(
            f"task {task_result.task.name}", kind=SpanKind.CONSUMER,
            attributes={f"task.{k}" if k != "task" else "task.path": v
                        for k, v in task_tags(task_result).items()})
        running.context_token = context.attach(trace.set_span_in_context(running.span))
    _current.set(running)


def finished(sender: Any, task_result: TaskResult, **kwargs: Any) -> None:
    """Close the task's span: its status, and the exception being handled if it failed.
    Runs after django-tasks' own receiver has logged the failure (and Sentry reported it)."""
    running = _current.get()
    if running is None or running.task_result.id != task_result.id:
        return
    _close(running, task_result)


def _close(running: RunningTask, task_result: TaskResult | None) -> None:
    _current.set(None)
    span = running.span
    if span is None:
        return
    from opentelemetry import context
    from opentelemetry.trace import Status, StatusCode

    status = task_result.status if task_result is not None else None
    span.set_attribute("task.status", str(status.value if status is not None else "UNKNOWN"))
    if status == TaskResultStatus.FAILED:
        error = sys.exc_info()[1]
        if error is not None:
            span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__ if error else "failed"))
    context.detach(running.context_token)
    span.end()
