"""The request id on every request, response header and log line, one access-log line per
request, and the request's Prometheus metrics: the request id's and observability's half of
the request edge (``middleware.edge``, first in the chain, calls these).

The request being served sits in a ``ContextVar`` for the request's duration, so the log
filter (:class:`RequestIdLogFilter`) can put its id, account number and workspace on every
record logged while it runs, without any per-request cost when nothing is logged.
"""

from __future__ import annotations

import logging
import os
import re
from contextvars import ContextVar, Token

from django.db import DatabaseError
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

from tenancy import metrics
from tenancy.client_ip import client_ip
from tenancy.context import get_current_account_id
from tenancy.operation import current_operation
from tenancy.redaction import redact

_current_request: ContextVar[HttpRequest | None] = ContextVar("current_request", default=None)
_INCOMING_RE = re.compile(r"[A-Za-z0-9._-]{8,64}")
access_logger = logging.getLogger("smarter.access")


def current_request() -> HttpRequest | None:
    """The request this thread (or task) is serving, if any."""
    return _current_request.get()


def _context_account() -> str:
    """The account number of the tenant task being run, or ``-``. Looked up once per task and
    kept in its operation; outside a task (a shell, a test, a command) a log line never queries."""
    account_id = get_current_account_id()
    op = current_operation()
    if account_id is None or op is None or op.source != "task":
        return "-"
    key = f"log_account_number:{account_id}"
    if key not in op.state:
        from accounts.models import Account  # late: the log config loads this module before the apps

        op.state[key] = "-"  # first: a line logged by the lookup itself finds it, no loop
        try:
            number = Account.objects.filter(pk=account_id).values_list("account_number", flat=True).first()
        except DatabaseError:
            number = None  # the database is away: the task's lines go out without its account
        op.state[key] = number or "-"
    return str(op.state[key])


def request_fields(request: HttpRequest | None) -> dict[str, object]:
    """Request id, account number and workspace of ``request`` (``-`` when unknown); outside
    a request, the account of the tenant task being run."""
    if request is None:
        return {"request_id": "-", "account": _context_account(), "workspace": "-"}
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


def take_request_id(request: HttpRequest) -> str:
    """A well-formed ``X-Request-ID`` from the proxy, or a new one; set on the request."""
    incoming = request.META.get("HTTP_X_REQUEST_ID", "")
    request_id = incoming if incoming and _INCOMING_RE.fullmatch(incoming) else os.urandom(16).hex()
    request.request_id = request_id  # type: ignore[attr-defined]
    return request_id


def enter_request(request: HttpRequest) -> Token[HttpRequest | None]:
    """Make ``request`` the one being served (for the log filter); pass the token to
    :func:`leave_request` in a ``finally``."""
    return _current_request.set(request)


def leave_request(token: Token[HttpRequest | None]) -> None:
    _current_request.reset(token)


def count_and_log(request: HttpRequest, response: HttpResponseBase, seconds: float) -> None:
    """The request's Prometheus metrics and, at INFO, its access line (``smarter.access``)."""
    kind, view = host_kind(request), view_name(request)
    metrics.observe_request(kind, view, request.method or "", response.status_code, seconds)
    if access_logger.isEnabledFor(logging.INFO):
        access_line(request, response, kind, view, seconds)


def access_line(request: HttpRequest, response: HttpResponseBase, kind: str, view: str,
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
