"""Audit events are deleted only by a purge: the retention purge, an account's purge, or a
``flush`` of the whole database. The database enforces it (migration 0003), as it refuses
every UPDATE: a DELETE or TRUNCATE of ``audit_auditevent`` fails unless it runs inside
:func:`purging`, which sets the transaction-local setting ``smarter.audit_purge`` on
PostgreSQL, and on SQLite makes the per-connection function ``audit_purge_allowed()`` (which
the trigger asks) answer 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction

SETTING = "smarter.audit_purge"
_purging: ContextVar[bool] = ContextVar("audit_purging", default=False)


def _set(using: str, value: str) -> None:
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, %s, true)", [SETTING, value])


@contextmanager
def purging(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """One transaction in which audit events may be deleted (only the purge paths use it)."""
    token = _purging.set(True)
    try:
        with transaction.atomic(using=using):
            _set(using, "on")
            try:
                yield
            finally:
                if not connections[using].needs_rollback:
                    _set(using, "off")  # an enclosing transaction goes on guarded
    finally:
        _purging.reset(token)


def register_sqlite_function(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: the SQLite trigger's ``audit_purge_allowed()``."""
    if connection.vendor == "sqlite":
        connection.connection.create_function("audit_purge_allowed", 0, lambda: int(_purging.get()))
