"""The request edge as one layer, first in the chain: the request id, the
Content-Security-Policy and Permissions-Policy headers, the Prometheus metrics and the access
line.

These were three middlewares (``RequestIdMiddleware``, ``csp.CachedPolicyCSPMiddleware``,
django-permissions-policy's), each a layer of Django's exception wrapper around the next,
with ``SecurityMiddleware`` between the first two; on a trivial request the layers cost more
than their jobs. Each job keeps its module (``request_id``, ``csp``, the library) and runs
here in the order its layer ran. ``SecurityMiddleware`` comes right after this layer
(Django's deploy checks look for it by name): its headers are now set before the two
policies, and its HTTPS redirect carries the policies too, like every other response.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django_permissions_policy import PermissionsPolicyMiddleware

from .csp import CachedPolicyCSPMiddleware
from .headers import put, put_token
from .request_id import count_and_log, enter_request, leave_request, take_request_id


class EdgeMiddleware:
    """Request id (and the request in the log context) around everything below; the two
    policy headers, ``X-Request-ID``, the metrics and the access line on every response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response
        # the libraries' request and response halves, not layers of their own
        self.csp = CachedPolicyCSPMiddleware(get_response)
        self.permissions = PermissionsPolicyMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        request_id = take_request_id(request)
        token = enter_request(request)
        try:
            self.csp.process_request(request)
            response = self.get_response(request)
            self.permissions_policy(response)
            response = self.csp.process_response(request, response)
            put_token(response, "X-Request-ID", request_id)  # [A-Za-z0-9._-] (take_request_id)
            count_and_log(request, response, time.perf_counter() - started)
        finally:
            leave_request(token)
        return response

    def permissions_policy(self, response: HttpResponseBase) -> None:
        """django-permissions-policy's headers: the library's own code for a view's override,
        else its per-process values, written with ``middleware.headers``."""
        on_response = response.__dict__  # the library's decorators set instance attributes
        if ("_permissions_policy_override" in on_response
                or "_permissions_policy_report_only_override" in on_response):
            self.permissions._apply_headers(response)
            return
        if value := self.permissions.permissions_policy:
            put(response, "Permissions-Policy", value)
        if value := self.permissions.permissions_policy_report_only:
            put(response, "Permissions-Policy-Report-Only", value)
