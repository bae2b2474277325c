"""Project-level views: the health check and the friendly error pages."""

from __future__ import annotations

import logging
import uuid

from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from api.errors import host_refused
from middleware.outage import outage_response_for_current_exception

logger = logging.getLogger(__name__)
API_PATH = "/api/"  # smarter/urls/common.py


def healthz(request: HttpRequest) -> JsonResponse:
    """Database and cache status as JSON: 200 when the database answers, else 503."""
    status = {"database": "ok", "cache": "ok"}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        logger.warning("healthz: database down (%s)", exc.__class__.__name__)
        status["database"] = "unavailable"
    try:
        probe = uuid.uuid4().hex
        cache.set("healthz:probe", probe, 10)
        if cache.get("healthz:probe") != probe:
            status["cache"] = "unavailable"
    except Exception as exc:  # noqa: BLE001
        logger.warning("healthz: cache down (%s)", exc.__class__.__name__)
        status["cache"] = "unavailable"
    healthy = status["database"] == "ok"
    status["status"] = ("ok" if status["cache"] == "ok" else "degraded") if healthy else "down"
    return JsonResponse(status, status=200 if healthy else 503)


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(
        request, "error.html", {"status": status, "title": title, "message": message},
        status=status,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 400, "Bad request", "The address or the request is not valid.")


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(request, 403, "Forbidden", "You do not have access to this page.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path_info.startswith(API_PATH) and getattr(request, "account", None) is None:
        return host_refused(request)  # the host serves no account: the API's JSON answer
    return _error(request, 404, "Not found", "There is nothing at this address.")


def server_error(request: HttpRequest) -> HttpResponse:
    outage = outage_response_for_current_exception()  # the database went away: 503, not 500
    if outage is not None:
        return outage
    return _error(request, 500, "Something went wrong", "We have been notified. Try again soon.")
