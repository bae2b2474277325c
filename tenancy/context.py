"""The tenant of the current request, where permission querysets can read it.

A ``ContextVar`` so that threads and async tasks each see their own request's tenant. Setting
a tenant also puts the database wall (:mod:`tenancy.wall`) in that tenant's mode, so the
ORM's scoping and the database's agree; ``None`` clears the ORM's scope and leaves the wall's
mode as it was (it never widens what the database shows).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import NamedTuple

from . import wall

_current_account_id: ContextVar[int | None] = ContextVar("current_account_id", default=None)


class TenantToken(NamedTuple):
    account: Token[int | None]
    wall: Token[wall.Wall | None] | None


def get_current_account_id() -> int | None:
    """The id of the account the current request addresses, or None outside a request."""
    return _current_account_id.get()


@contextmanager
def tenant_context(account_id: int | None) -> Iterator[None]:
    """Scope querysets and the database wall to ``account_id`` inside the block; always
    restored on exit."""
    token = set_current_account_id(account_id)
    try:
        yield
    finally:
        reset_current_account_id(token)


def set_current_account_id(account_id: int | None) -> TenantToken:
    """:func:`tenant_context` for the request hot path (no generator): the caller must
    pass the token to :func:`reset_current_account_id` in a ``finally``."""
    return TenantToken(_current_account_id.set(account_id),
                       None if account_id is None else wall.enter_tenant(account_id))


def reset_current_account_id(token: TenantToken) -> None:
    if token.wall is not None:
        wall.leave(token.wall)
    _current_account_id.reset(token.account)
