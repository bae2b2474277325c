"""``ALLOWED_HOSTS`` beyond static patterns: hosts a predicate vouches for at run time.

Django validates every ``request.get_host()`` against ``settings.ALLOWED_HOSTS`` with
``validate_host``: ``pattern == "*" or is_same_domain(host, pattern)`` for each entry, and
``is_same_domain`` ends in ``pattern == host``. :class:`RuntimeAllowedHost` is one *entry*
of that list (a ``str`` subclass, so it survives code that copies the list, such as the test
runner's ``[*ALLOWED_HOSTS, "testserver"]``) whose equality asks a predicate (a dotted path,
imported lazily: the settings module cannot import apps) whether *this* host is allowed.
It never matches ``*`` or a malformed host and matches no host it is not asked about, so
it is not a wildcard. Static entries come first, so platform hosts never reach it.

Once the tenant middleware has checked a request's host itself, :func:`vouch` marks it as
allowed, so the request's later ``get_host()`` calls (CommonMiddleware, CSRF, absolute
URLs) neither scan the entries nor, for a custom domain, ask the predicate again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

from .hosts import MalformedHost, normalize_host

if TYPE_CHECKING:
    from django.http import HttpRequest


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


@lru_cache(maxsize=4096)  # asked on every request; bounded because clients choose hosts
def is_statically_allowed(host: str) -> bool:
    """True if a static ``ALLOWED_HOSTS`` pattern (not a run-time entry) matches ``host``.
    Remembered per process; forgotten on any ``ALLOWED_HOSTS`` change."""
    from django.http.request import validate_host  # not at import: settings import this module

    static = [p for p in settings.ALLOWED_HOSTS if not isinstance(p, RuntimeAllowedHost)]
    return validate_host(host, static)


def _allowed_hosts_changed(*, setting: str, **kwargs: Any) -> None:
    if setting == "ALLOWED_HOSTS":
        is_statically_allowed.cache_clear()


setting_changed.connect(_allowed_hosts_changed)


def vouch(request: HttpRequest, host: str) -> None:
    """Answer every ``get_host()`` of ``request`` with ``host``, its raw Host header, unchecked:
    the caller has just established that the host is allowed, by the same rules (a static
    pattern, or the very lookup the run-time entry makes for a verified custom domain) on the
    host parsed by rules stricter than Django's.

    Without this, each of Django's later checks (CommonMiddleware, CSRF, absolute URLs)
    scans the entries again, and for a custom domain asks the predicate again.
    """
    request.get_host = lambda: host  # type: ignore[method-assign]
