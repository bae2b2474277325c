"""A database outage gives a friendly 503 page, never a traceback."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)


def outage_response() -> HttpResponse:
    """The static 503 page (rendered without touching the database)."""
    return HttpResponse(render_to_string("503.html"), status=503, headers={"Retry-After": "5"})


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
        logger.error("database unavailable: %s", exc.__class__.__name__)
        return outage_response()

