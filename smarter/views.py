"""Project-level views: the friendly error pages (health and metrics: ``operations.views``)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from api.errors import host_refused
from api.errors import server_error as api_server_error
from middleware.outage import outage_response_for_current_exception

logger = logging.getLogger(__name__)
API_PATH = "/api/"  # smarter/urls/common.py


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
    if request.path_info.startswith(API_PATH):
        return api_server_error(outage)  # the API's JSON envelope, a 500 included
    if outage is not None:
        return outage
    return _error(request, 500, "Something went wrong", "We have been notified. Try again soon.")
