"""A database outage gives a friendly 503 page, never a traceback."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def describe(exc: BaseException) -> str:
    """What the log says of a database error: its class and its message's first line, which
    tells a refused connection from too many connections or a failed sign-in (psycopg's
    messages name host, port and role, never a password); the answer never says it."""
    first = (str(exc).strip().splitlines() or [""])[0][:240]
    return f"{exc.__class__.__name__}: {first}" if first else exc.__class__.__name__


def outage_response() -> HttpResponse:
    """The static 503 page (rendered without touching the database)."""
    return HttpResponse(render_to_string("503.html"), status=503, headers={"Retry-After": "5"})


def outage_response_for_current_exception() -> HttpResponse | None:
    """The 503 page if the exception being handled is a lost database connection, else None.

    For the 500 handler: Django turns an exception raised inside a middleware below
    :class:`DatabaseOutageMiddleware` (the tenant lookup of an uncached host, the session
    load) into a response at that middleware's own boundary, through ``handler500``, so the
    outage middleware never sees it.
    """
    exc = sys.exc_info()[1]
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return None
    response = DatabaseOutageMiddleware._unavailable(exc)
    # Logged in one line above; Django would add a full traceback for every request.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class DatabaseOutageMiddleware:
    """Turn connection-level database errors raised anywhere below into a 503."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            return self.get_response(request)
        except (OperationalError, InterfaceError) as exc:
            return self._unavailable(exc)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, (OperationalError, InterfaceError)):
            return self._unavailable(exc)
        return None

    @staticmethod
    def _unavailable(exc: Exception) -> HttpResponse:
        logger.error("database unavailable: %s", describe(exc))
        return outage_response()

