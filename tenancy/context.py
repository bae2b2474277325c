"""The tenant of the current request, where permission querysets can read it.

A ``ContextVar`` so that threads and async tasks each see their own request's tenant.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

_current_account_id: ContextVar[int | None] = ContextVar("current_account_id", default=None)


def get_current_account_id() -> int | None:
    """The id of the account the current request addresses, or None outside a request."""
    return _current_account_id.get()


@contextmanager
def tenant_context(account_id: int | None) -> Iterator[None]:
    """Scope querysets to ``account_id`` inside the block; always restored on exit."""
    token = set_current_account_id(account_id)
    try:
        yield
    finally:
        reset_current_account_id(token)


def set_current_account_id(account_id: int | None) -> Token[int | None]:
    """:func:`tenant_context` for the request hot path (no generator): the caller must
    pass the token to :func:`reset_current_account_id` in a ``finally``."""
    return _current_account_id.set(account_id)


def reset_current_account_id(token: Token[int | None]) -> None:
    _current_account_id.reset(token)
