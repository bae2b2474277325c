"""Each request to a tenant host runs as one :mod:`tenancy.operation` for the audit log.

Placed after authentication; the actor (session user, or the API key the JSON API
authenticates inside the view) is read from the request when an event is written.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tenancy.operation import Operation, end_operation, start_operation

_AREAS = (("/console/", "console"), ("/api/", "api"), ("/admin/", "admin"),
          # allauth's socialaccount: the accounts' identity providers (sso/)
          ("/accounts/oidc/", "sso"), ("/accounts/saml/", "sso"), ("/accounts/social/", "sso"))


def request_source(path: str) -> str:
    """console, api, admin, or web for any other page."""
    return next((area for prefix, area in _AREAS if path.startswith(prefix)), "web")


class AuditContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = start_operation(Operation(
            request_source(request.path_info), request=request,
            request_id=getattr(request, "request_id", ""),
        ))  # the client address is worked out when an event needs it (Operation.address)
        try:
            return self.get_response(request)
        finally:
            end_operation(token)
