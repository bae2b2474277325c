"""Who is acting right now: a request, a management command or a task.

The audit log reads this when it writes an event; nothing else depends on it. A
``ContextVar`` like :mod:`tenancy.context`, so threads and async tasks each see their own.
A request's actor is resolved when an event is written, not when the request starts: the
JSON API authenticates its key inside the view, after every middleware has run.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

SOURCES = ("console", "api", "admin", "web", "command", "task", "system")


@dataclass
class Operation:
    """One unit of work: ``source`` is one of SOURCES, ``label`` names the command or task."""

    source: str
    label: str = ""
    request: Any = None
    request_id: str = ""
    client_ip: str | None = None
    user_id: int | None = None  # who a task or command acts for, when known
    state: dict[str, Any] = field(default_factory=dict)  # per-operation scratch space


_current: ContextVar[Operation | None] = ContextVar("current_operation", default=None)


def current_operation() -> Operation | None:
    """The operation in progress, or None (a shell, a test calling models directly)."""
    return _current.get()


@contextmanager
def operation(source: str, **fields: Any) -> Iterator[Operation]:
    """Run the block as one operation; the previous one is restored on exit."""
    if source not in SOURCES:
        raise ValueError(f"unknown operation source {source!r}")
    op = Operation(source=source, **fields)
    token = _current.set(op)
    try:
        yield op
    finally:
        _current.reset(token)
