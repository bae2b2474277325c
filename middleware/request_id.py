"""The request edge: a request id on every request, response header and log line, one
access-log line per request, and the request's Prometheus metrics.

The request being served sits in a ``ContextVar`` for the request's duration, so the log
filter (:class:`RequestIdLogFilter`) can put its id, account number and workspace on every
record logged while it runs, without any per-request cost when nothing is logged.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Callable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject, empty

from smarter.log_filters import redact
from tenancy import metrics
from tenancy.client_ip import client_ip

_current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)
_INCOMING_RE = re.compile(r"[A-Za-z0-9._-]{8,64}")
access_logger = logging.getLogger("smarter.access")


def current_request() -> HttpRequest | None:
    """The request this thread (or task) is serving, if any."""
    return _current_request.get()


def request_fields(request: HttpRequest | None) -> dict[str, object]:
    """Request id, account number and workspace of ``request`` (``-`` when unknown)."""
    if request is None:
        return {"request_id": "-", "account": "-", "workspace": "-"}
    info = getattr(request, "host_info", None)
    return {
        "request_id": getattr(request, "request_id", "-"),
        "account": getattr(info, "account_number", None) or "-",
        "workspace": getattr(info, "workspace", None) or "-",
    }


class RequestIdLogFilter(logging.Filter):
    """Adds ``request_id``, ``account`` and ``workspace`` to every log record, and redacts
    secrets (tokens in paths and query strings, API keys) from its message.

    The request is the one being served, or the one Django passes along with its own
    ``django.request`` records (those for 4xx/5xx answers are logged after the middleware
    chain has returned, when the context is already reset).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        request = _current_request.get()
        if request is None:
            request = getattr(record, "request", None)
            if not isinstance(request, HttpRequest):
                request = None
        for name, value in request_fields(request).items():
            setattr(record, name, value)
        if record.name != access_logger.name:
            message = record.getMessage()
            cleaned = redact(message)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


def host_kind(request: HttpRequest) -> str:
    """platform, api, tenant, custom_domain, or ``-`` before the tenant middleware ran."""
    info = getattr(request, "host_info", None)
    if info is None:
        return "-"
    return "custom_domain" if info.custom_domain else info.kind


def view_name(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else "-"


class RequestIdMiddleware:
    """Take a well-formed ``X-Request-ID`` from the proxy or make one; echo it back; log one
    line per request (``smarter.access``, INFO) and count it in the Prometheus metrics."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _INCOMING_RE.fullmatch(incoming) else os.urandom(16).hex()
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            seconds = time.perf_counter() - started
            kind, view = host_kind(request), view_name(request)
            metrics.observe_request(kind, view, request.method or "", response.status_code, seconds)
            if access_logger.isEnabledFor(logging.INFO):
                self.log(request, response, kind, view, seconds)
        finally:
            _current_request.reset(token)
        return response

    @staticmethod
    def log(request: HttpRequest, response: HttpResponse, kind: str, view: str,
            seconds: float) -> None:
        """The access line: never the query string, and secret path segments redacted."""
        user = request.__dict__.get("user")
        if isinstance(user, SimpleLazyObject) and user._wrapped is empty:  # type: ignore[attr-defined]
            user_id = None  # nothing asked who it is (no session or not a member here): no load now
        else:
            user_id = user.pk if user is not None and user.is_authenticated else None
        path = redact(request.path)
        duration_ms = round(seconds * 1000, 2)
        access_logger.info(
            "%s %s %s %s %s %.1fms", request.method, kind, path, response.status_code, view,
            duration_ms,
            extra={"method": request.method, "host_kind": kind, "path": path, "view": view,
                   "status": response.status_code, "duration_ms": duration_ms,
                   "user_id": user_id, "client_ip": client_ip(request)},
        )
