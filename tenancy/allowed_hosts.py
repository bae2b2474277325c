"""``ALLOWED_HOSTS`` beyond static patterns: hosts a predicate vouches for at run time.

Django validates every ``request.get_host()`` against ``settings.ALLOWED_HOSTS`` with
``validate_host``: ``pattern == "*" or is_same_domain(host, pattern)`` for each entry, and
``is_same_domain`` ends in ``pattern == host``. :class:`RuntimeAllowedHost` is one *entry*
of that list (a ``str`` subclass, so it survives code that copies the list, such as the test
runner's ``[*ALLOWED_HOSTS, "testserver"]``) whose equality asks a predicate (a dotted path,
imported lazily: the settings module cannot import apps) whether *this* host is allowed.
It never matches ``*`` or a malformed host and matches no host it is not asked about, so
it is not a wildcard. Static entries come first, so platform hosts never reach it.

Inside :func:`vouch` (the tenant middleware, once it has resolved the host itself) the
current host matches without asking the predicate again, so the request's later
``get_host()`` calls (CSRF, CommonMiddleware, absolute URLs) cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

from .hosts import MalformedHost, normalize_host

_vouched: ContextVar[str | None] = ContextVar("vouched_host", default=None)


class RuntimeAllowedHost(str):
    """An ``ALLOWED_HOSTS`` entry matching exactly the hosts ``predicate`` accepts."""

    predicate_path: str

    def __new__(cls, predicate_path: str) -> RuntimeAllowedHost:
        entry = super().__new__(cls, f"<hosts allowed by {predicate_path}>")
        entry.predicate_path = predicate_path
        return entry

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.predicate_path,))

    def lower(self) -> RuntimeAllowedHost:  # type: ignore[override]
        return self  # is_same_domain lower-cases the pattern; keep this object

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, str) or isinstance(other, RuntimeAllowedHost):
            return str.__eq__(self, other)
        if other == "*" or not other:
            return False
        if other == _vouched.get():
            return True
        try:
            host = normalize_host(other)
        except MalformedHost:
            return False
        return bool(self.predicate(host))

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    __hash__ = str.__hash__

    @property
    def predicate(self) -> Callable[[str], bool]:
        return import_string(self.predicate_path)


def is_statically_allowed(host: str) -> bool:
    """True if a static ``ALLOWED_HOSTS`` pattern (not a run-time entry) matches ``host``."""
    from django.http.request import validate_host  # not at import: settings import this module

    static = [p for p in settings.ALLOWED_HOSTS if not isinstance(p, RuntimeAllowedHost)]
    return validate_host(host, static)


@contextmanager
def vouch(host: str) -> Iterator[None]:
    """Within the block, ``host`` (already resolved by the caller) is an allowed host."""
    token = _vouched.set(host)
    try:
        yield
    finally:
        _vouched.reset(token)
