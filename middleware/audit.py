"""Each request to a tenant host runs as one :mod:`tenancy.operation` for the audit log.

Placed after authentication; the actor (session user, or the API key the JSON API
authenticates inside the view) is read from the request when an event is written.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tenancy.client_ip import client_ip
from tenancy.operation import operation

_AREAS = (("/console/", "console"), ("/api/", "api"), ("/admin/", "admin"))


def request_source(path: str) -> str:
    """console, api, admin, or web for any other page."""
    return next((area for prefix, area in _AREAS if path.startswith(prefix)), "web")


def _address(request: HttpRequest) -> str | None:
    """The client address if it is an IP address (the audit column is typed), else None."""
    try:
        return str(ipaddress.ip_address(client_ip(request)))
    except ValueError:
        return None


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with operation(
            request_source(request.path_info), request=request,
            request_id=getattr(request, "request_id", ""), client_ip=_address(request),
        ):
            return self.get_response(request)
