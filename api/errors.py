"""Every API error is ``{"error": {"code", "message", "fields"}}`` with the right status."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, InterfaceError, OperationalError
from django.http import Http404, HttpResponse, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import set_rollback

from middleware.outage import describe

from .authentication import ApiKeyAuthentication

logger = logging.getLogger(__name__)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with existing data."
    default_code = "conflict"

    def __init__(self, detail: Any = None, fields: dict[str, list[str]] | None = None,
                 code: str | None = None) -> None:
        """``code``: the envelope's code when a more precise one than ``conflict`` helps a
        client (the rule that refused, e.g. ``last_admin``)."""
        super().__init__(detail)
        self.fields = fields or {}
        self.envelope_code = code


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "payload_too_large"


_CODES = {
    400: "validation_error", 401: "not_authenticated", 403: "permission_denied",
    404: "not_found", 405: "method_not_allowed", 406: "not_acceptable",
    409: "conflict", 413: "payload_too_large", 415: "unsupported_media_type",
    422: "idempotency_key_reused", 429: "throttled",
}


def _flatten(detail: Any) -> list[str]:
    if isinstance(detail, dict):
        return [f"{k}: {m}" for k, v in detail.items() for m in _flatten(v)]
    if isinstance(detail, list):
        return [m for item in detail for m in _flatten(item)]
    return [str(detail)]


def _fields(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {str(k): _flatten(v) if not isinstance(v, dict) else _fields(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return {"non_field_errors": _flatten(detail)}
    return {}


def error_body(status_code: int, message: str, fields: dict[str, Any] | None = None,
               code: str | None = None) -> dict[str, Any]:
    return {"error": {"code": code or _CODES.get(status_code, "error"), "message": message,
                      "fields": fields or {}}}


UNAVAILABLE = "The service is briefly unavailable. Try again in a few seconds."
SERVER_ERROR = "Something went wrong on our side. We have been notified; try again soon."
RETRY_AFTER = "5"  # seconds, as the pages' outage answer


def unavailable() -> JsonResponse:
    """A database outage: 503 with ``Retry-After``, logged once by whoever caught it."""
    response = JsonResponse(error_body(503, UNAVAILABLE, code="unavailable"), status=503,
                            headers={"Retry-After": RETRY_AFTER})
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


def server_error(outage: HttpResponse | None) -> JsonResponse:
    """The 500 handler's answer on ``/api/``: the envelope, 503 when ``outage`` (the pages'
    outage answer for the exception being handled) says the database went away."""
    if outage is not None:
        return unavailable()
    return JsonResponse(error_body(500, SERVER_ERROR, code="server_error"), status=500)


def host_refused(request: Any) -> JsonResponse:
    """An API request to a host that serves no account (unknown, closed or deactivated):
    the API's JSON, not the HTML 404 page. A request with a key gets the answer of any bad key
    (401, the same message whether the account is closed or never existed); one without, 404."""
    if request.META.get("HTTP_AUTHORIZATION"):
        response = JsonResponse(error_body(401, str(ApiKeyAuthentication.failure)), status=401)
        response["WWW-Authenticate"] = ApiKeyAuthentication().authenticate_header(request)
        return response
    return JsonResponse(error_body(404, str(exceptions.NotFound.default_detail)), status=404)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's exception handler with one JSON shape; database conflicts become 409.

    A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (Django refuses to read it, with a
    SuspiciousOperation that would become an HTML 400 page) is a JSON 413 here.
    """
    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        exc = PayloadTooLarge(f"The request body is too large (at most {limit} bytes).")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, OperationalError | InterfaceError):  # the database went away
        logger.error("database unavailable: %s", describe(exc))
        set_rollback()
        response = Response(error_body(503, UNAVAILABLE, code="unavailable"), status=503,
                            headers={"Retry-After": RETRY_AFTER})
        response._has_been_logged = True  # type: ignore[attr-defined]
        return response
    elif isinstance(exc, IntegrityError):
        logger.info("integrity error answered with 409: %s", exc.__class__.__name__)
        exc = Conflict()
    if not isinstance(exc, exceptions.APIException):
        return None  # a real bug: Django's 500 handling and logging
    headers: dict[str, str] = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
    status_code = exc.status_code
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        request = context.get("request")
        view = context.get("view")
        header = view.get_authenticate_header(request) if view and request else None
        if header:
            headers["WWW-Authenticate"] = header
            status_code = 401
    if isinstance(exc, exceptions.ValidationError):
        fields = _fields(exc.detail)
        body = error_body(400, "The request is invalid.", fields)
    elif isinstance(exc, Conflict):
        body = error_body(409, str(exc.detail), exc.fields, code=exc.envelope_code)
    else:
        detail = exc.detail
        message = " ".join(_flatten(detail)) if isinstance(detail, dict | list) else str(detail)
        body = error_body(status_code, message)
    set_rollback()
    return Response(body, status=status_code, headers=headers)
