"""Who is acting right now: a request, a management command or a task.

The audit log reads this when it writes an event; nothing else depends on it. A
``ContextVar`` like :mod:`tenancy.context`, so threads and async tasks each see their own.
A request's actor is resolved when an event is written, not when the request starts: the
JSON API authenticates its key inside the view, after every middleware has run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from .client_ip import client_ip_address

#: Where an operation (and so each audit event) comes from, with its label in the console: the
#: one list the recorder, the API's and the console's audit filters and the audit model use.
SOURCE_LABELS: dict[str, str] = {
    "console": "Console", "api": "API", "admin": "Django admin", "web": "Sign-in pages",
    "command": "Operator command", "task": "Background task", "system": "Platform",
    "scim": "Provisioning (SCIM)", "sso": "Single sign-on",
}
SOURCES = tuple(SOURCE_LABELS)


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

    def address(self) -> str | None:
        """``client_ip``, or the request's client address (worked out when first asked: most
        requests write no audit event)."""
        if self.client_ip is None and self.request is not None:
            self.client_ip = client_ip_address(self.request)
        return self.client_ip


#: A deferred operation: (a function building it from the request, the request).
Deferred = tuple[Callable[[Any], Operation], Any]
_current: ContextVar[Operation | Deferred | None] = ContextVar("current_operation", default=None)


def current_operation() -> Operation | None:
    """The operation in progress, or None (a shell, a test calling models directly)."""
    op = _current.get()
    if type(op) is tuple:  # a request's, built now that something asks for it
        op = op[0](op[1])
        _current.set(op)
    return op  # type: ignore[return-value]


def start_operation(op: Operation | Deferred) -> Token[Operation | Deferred | None]:
    """:func:`operation` for the request hot path (no generator): the caller must pass the
    token to :func:`end_operation` in a ``finally``. A request passes ``(build, request)``:
    most requests write no audit event, so their operation is built only when one asks."""
    return _current.set(op)


def end_operation(token: Token[Operation | Deferred | None]) -> None:
    _current.reset(token)


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
