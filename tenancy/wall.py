"""The database wall: which tenant's rows the database lets the current code see.

On PostgreSQL every tenant table has a row-level security policy (``tenancy.wall_policy``)
that reads three transaction-local settings. This module decides their values and makes every
transaction carry them:

- **no mode** (the default): nothing is set, and the policies show *no rows* (fail-closed). A
  thread or a code path nobody put in a mode cannot write tenant rows, and its ORM queries of
  tenant models raise :class:`NoWallModeError` (``tenancy.wall_scoping``) rather than read
  empty tables.
- **tenant mode** (``tenant_context(account_id)``, the request middleware, ``@tenant_task``):
  that account's rows, plus reads of the rows the seed's read rule shares from the platform
  (the platform admin's own rows, see ``shared_owner``); writes only that account.
- **platform mode** (``platform_mode(reason)``): every row. Entered only explicitly: by every
  management command (the worker, migrations), by ``@platform_task`` and by the test process.
- **crossing** (``crossing(reason)``): platform mode for one block *inside* a tenant request,
  for a legitimate cross-tenant read (membership lookups, hostname routing, API key lookup,
  the superuser's admin, cached loaders whose keys are global). Logged on ``tenancy.wall``.

Every statement Django sends through a PostgreSQL connection is prefixed (one execute
wrapper, installed on connection) with ``SELECT set_config(..., true), ...;`` for the mode in
force *at that statement*: psycopg's client-side binding cursor sends both as one simple
query, which PostgreSQL runs as one transaction in autocommit mode, and inside ``atomic()``
each statement re-states the mode. So no extra round trip, and nothing can outlive a
transaction on a pooled (PgBouncer transaction mode) server connection. A request that runs no
query pays nothing. Four ``SET LOCAL`` statements (each a statement of its own) measured no
cheaper than one ``SELECT`` of four ``set_config`` calls (``bench/wall_cost.py --statements``);
Citus, which propagates ``SET LOCAL`` and not ``set_config``, would change :func:`_prefix`
and ``PREFIX_STATEMENTS`` alone.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils.module_loading import import_string

logger = logging.getLogger("tenancy.wall")

#: The transaction-local settings the policies read (``tenancy.wall_policy``).
PLATFORM_SETTING = "smarter.platform"
ACCOUNT_SETTING = "smarter.account_id"
SHARED_ACCOUNT_SETTING = "smarter.shared_account_id"
SHARED_OWNER_SETTING = "smarter.shared_owner_id"

# Statements that cannot run inside a transaction block (the prefix would make one) or that
# read no table: sent as they are.
_UNPREFIXED = frozenset({"SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "BEGIN", "START",
                         "SET", "SHOW", "RESET", "VACUUM", "CHECKPOINT", "LISTEN", "NOTIFY"})
_NON_TRANSACTIONAL = ("CREATE DATABASE", "DROP DATABASE", "ALTER DATABASE", "ALTER SYSTEM",
                      "CREATE TABLESPACE", "DROP TABLESPACE")


#: How many statements the prefix of every mode holds (each has a result to skip).
PREFIX_STATEMENTS = 1
_PREFIX_START = f"SELECT set_config('{PLATFORM_SETTING}', "


def _prefix(platform: bool, account_id: int | None, shared: tuple[int, int] | None) -> str:
    """The statement that states a mode, every setting stated, so that nothing a session set
    before decides (ids are ints: nothing to quote)."""
    values = (
        (PLATFORM_SETTING, "on" if platform else ""),
        (ACCOUNT_SETTING, "" if account_id is None else str(int(account_id))),
        (SHARED_ACCOUNT_SETTING, "" if shared is None else str(int(shared[0]))),
        (SHARED_OWNER_SETTING, "" if shared is None else str(int(shared[1]))),
    )
    return "SELECT " + ", ".join(f"set_config('{n}', '{v}', true)" for n, v in values) + "; "


_UNRESOLVED: Any = object()


@dataclass
class Wall:
    """One mode: platform (every row), or one tenant (``account_id``), with its reason."""

    account_id: int | None
    platform: bool
    reason: str = ""
    _shared: Any = field(default=_UNRESOLVED, repr=False)
    _sql: str | None = field(default=None, repr=False)

    @property
    def shared(self) -> tuple[int, int] | None:
        """(account id, owner id) of the platform rows this tenant may read, resolved once,
        lazily (first statement), so a request that runs no query never asks for it."""
        if self._shared is _UNRESOLVED:
            self._shared = None if self.platform else shared_owner()
        return self._shared  # type: ignore[no-any-return]

    @property
    def sql(self) -> str:
        """The prefix that states this mode in a transaction."""
        if self._sql is None:
            self._sql = _prefix(self.platform, self.account_id, self.shared)
        return self._sql


NO_MODE_SQL = _prefix(False, None, None)
_PLATFORM = Wall(None, True, "platform")
_current: ContextVar[Wall | None] = ContextVar("tenancy_wall", default=None)


class NoWallModeError(RuntimeError):
    """A tenant table queried through the ORM with no mode in force: the database would show
    no rows, which reads like "nothing there". Raised instead, naming the fix."""


def require_mode(label: str) -> Wall:
    """The mode in force, or :class:`NoWallModeError` naming how to enter one (``label``:
    the model queried)."""
    wall = _current.get()
    if wall is None:
        raise NoWallModeError(
            f"{label} was queried with no wall mode in force, so the database would show no "
            "rows. Enter a mode first: tenancy.wall.platform_mode(reason) (or "
            "enter_platform(reason)) in a script, thread or platform task, or "
            "tenancy.context.tenant_context(account_id) for one tenant. A new thread starts "
            "with no mode.")
    return wall


def current_wall() -> Wall | None:
    """The mode in force, or None (no mode: the database shows no tenant rows)."""
    return _current.get()


def in_platform_mode() -> bool:
    wall = _current.get()
    return wall is not None and wall.platform


def enter_tenant(account_id: int) -> Token[Wall | None]:
    """Tenant mode for ``account_id`` until :func:`leave` (the request middleware's hot path;
    elsewhere use ``tenancy.context.tenant_context``)."""
    return _current.set(Wall(int(account_id), False))


def enter_platform(reason: str) -> Token[Wall | None]:
    """Platform mode until :func:`leave`; ``reason`` names who asked for it."""
    if not reason:
        raise ValueError("platform mode needs a reason")
    return _current.set(_PLATFORM if reason == "platform" else Wall(None, True, reason))


def leave(token: Token[Wall | None]) -> None:
    _current.reset(token)


@contextmanager
def platform_mode(reason: str) -> Iterator[None]:
    """Every row, for code that is about no one tenant: management commands, the worker,
    platform tasks, the test process. Not for code inside a tenant request: use
    :func:`crossing` there."""
    token = enter_platform(reason)
    try:
        yield
    finally:
        leave(token)


@contextmanager
def crossing(reason: str) -> Iterator[None]:
    """A named, logged crossing of the wall for one block inside a tenant's context: the
    database (and, on SQLite, the tenant-owned managers) show every tenant's rows. The
    ORM's own scoping (``tenancy.context``) is left as it is."""
    wall = _current.get()
    if wall is not None and wall.platform:
        yield  # already platform: nothing to cross
        return
    if not reason:
        raise ValueError("a crossing needs a reason")
    logger.debug("wall crossing: %s", reason,
                  extra={"wall_reason": reason,
                         "account_id": None if wall is None else wall.account_id})
    token = _current.set(Wall(None, True, f"crossing: {reason}"))
    try:
        yield
    finally:
        _current.reset(token)


def crosses(reason: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator form of :func:`crossing`."""

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with crossing(reason):
                return func(*args, **kwargs)

        return run

    return decorate


def shared_owner() -> tuple[int, int] | None:
    """(account id, owner profile id) of the platform rows every tenant may read (the seed's
    read rule), from ``TENANCY_SHARED_OWNER_RESOLVER``; None when there is none."""
    path = getattr(settings, "TENANCY_SHARED_OWNER_RESOLVER", "")
    if not path:
        return None
    with crossing("the platform's shared owner"):
        profile = import_string(path)()
    return None if profile is None else (profile.account_id, profile.pk)


def unprefixed(sql: str) -> str:
    """``sql`` without the wall's settings statement: for execute wrappers added after the
    wall's (they run inside it and see what is sent: the prefix and the statement)."""
    if sql.startswith(_PREFIX_START):
        return sql.split("; ", PREFIX_STATEMENTS)[PREFIX_STATEMENTS]
    return sql


def execute_wrapper(execute: Callable[..., Any], sql: str, params: Any, many: bool,
                    context: dict[str, Any]) -> Any:
    """Run ``sql`` with the current mode's settings in the same transaction (see module)."""
    head = sql.lstrip()[:24].upper()
    if (head.split(None, 1)[0] if head else "") in _UNPREFIXED or head.startswith(_NON_TRANSACTIONAL):
        return execute(sql, params, many, context)
    wall = _current.get()
    prefix = NO_MODE_SQL if wall is None else wall.sql
    cursor = context["cursor"].cursor
    connection = context["connection"]
    if many or getattr(cursor, "name", None):
        # executemany and server-side cursors cannot take a second statement: state the
        # mode first, in the same transaction.
        if connection.in_atomic_block or not connection.get_autocommit():
            cursor.connection.execute(prefix)
            return execute(sql, params, many, context)
        with transaction.atomic(using=connection.alias):
            cursor.connection.execute(prefix)
            return execute(sql, params, many, context)
    result = execute(prefix + sql, params, many, context)
    for _ in range(PREFIX_STATEMENTS):
        cursor.nextset()  # past the prefix's result, to the statement's own
    return result


def install(connection: Any) -> None:
    """Add :func:`execute_wrapper` to a PostgreSQL connection (once per connection object)."""
    if connection.vendor == "postgresql" and execute_wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, execute_wrapper)


def on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    """``connection_created`` receiver: every new PostgreSQL connection carries the wall."""
    install(connection)
