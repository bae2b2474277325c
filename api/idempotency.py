"""``Idempotency-Key`` on the API's creating requests (draft-ietf-httpapi-idempotency-key-header,
as Stripe does it): a client that retries a POST after a lost answer gets the first answer again
instead of a second invitation, export, key...

Per account and key, the first request's fingerprint (method, path, JSON body) is stored before
the view runs; once it succeeded (2xx) its status and body are stored and replayed to every
retry for ``IDEMPOTENCY_KEY_TTL`` seconds, with ``Idempotent-Replayed: true``. The same key with
another request is a 422; a retry while the first one still runs is a 409. An answer that is no
success (a refusal, a conflict, an outage) is not kept: the client may retry with the same key.
The store is a database table (api.IdempotentRequest, behind the wall), so it holds through a
cache outage. A first request that died mid-way (its process killed) frees its key after
``STALE_AFTER`` seconds.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.response import Response

from .errors import Conflict
from .models import IdempotentRequest

HEADER = "Idempotency-Key"
MAX_LENGTH = 255
STALE_AFTER = timedelta(minutes=5)  # longer than any creating request takes

PARAMETER = OpenApiParameter(
    HEADER, {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH, "pattern": "^[!-~]+$"},
    location=OpenApiParameter.HEADER, required=False,
    description="A unique value (e.g. a UUID) per creation: a retry with the same key and body "
                "gets the first answer again (for 24 hours) instead of creating twice; the same "
                "key with another body is a 422, a retry while the first request runs a 409.",
)


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used for a different request."
    default_code = "idempotency_key_reused"


def _key(request: Any) -> str | None:
    raw = request.META.get("HTTP_IDEMPOTENCY_KEY")
    if raw is None:
        return None
    if not raw or len(raw) > MAX_LENGTH or not all("!" <= c <= "~" for c in raw):
        raise exceptions.ValidationError(
            {HEADER: [f"1 to {MAX_LENGTH} visible ASCII characters, e.g. a UUID."]})
    return str(raw)


def _fingerprint(request: Any) -> str:
    payload = json.dumps([request.method, request.path, request.data], sort_keys=True,
                         cls=DjangoJSONEncoder, ensure_ascii=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _claim(account: Any, key: str, fingerprint: str) -> IdempotentRequest | None:
    """Store the key as running and return None, or return the row another request holds."""
    now = timezone.now()
    for _ in range(2):
        try:
            with transaction.atomic():
                IdempotentRequest.objects.create(account=account, key=key, fingerprint=fingerprint)
            return None
        except IntegrityError:
            row = IdempotentRequest.objects.filter(account=account, key=key).first()
            if row is None:
                continue  # expired and removed meanwhile: claim again
            expired = row.created_at < now - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL)
            abandoned = row.status is None and row.created_at < now - STALE_AFTER
            if not (expired or abandoned):
                return row
            IdempotentRequest.objects.filter(pk=row.pk, created_at=row.created_at).delete()
    raise Conflict("Another request with this Idempotency-Key is being processed.",
                   code="idempotency_key_in_use")


def idempotent(request: Any, run: Callable[[], Response]) -> Response:
    """``run()`` the creating view once per ``Idempotency-Key`` (none: every time)."""
    key = _key(request)
    if key is None:
        return run()
    account = request.account
    fingerprint = _fingerprint(request)
    held = _claim(account, key, fingerprint)
    if held is not None:
        if held.fingerprint != fingerprint:
            raise KeyReused()
        if held.status is None:
            raise Conflict("Another request with this Idempotency-Key is being processed.",
                           code="idempotency_key_in_use")
        return Response(held.body, status=held.status, headers={"Idempotent-Replayed": "true"})
    try:
        response = run()
    except BaseException:
        IdempotentRequest.objects.filter(account=account, key=key, status=None).delete()
        raise
    if 200 <= response.status_code < 300:
        IdempotentRequest.objects.filter(account=account, key=key).update(
            status=response.status_code, body=response.data)
    else:
        IdempotentRequest.objects.filter(account=account, key=key, status=None).delete()
    return response


IDEMPOTENT_ACTIONS = ("create", "batch")  # the creating actions (api.schema declares the header)


def idempotent_view(method: Callable[..., Response]) -> Callable[..., Response]:
    """A viewset's creating action that honours ``Idempotency-Key``."""

    @functools.wraps(method)
    def wrapper(self: Any, request: Any, *args: Any, **kwargs: Any) -> Response:
        return idempotent(request, lambda: method(self, request, *args, **kwargs))

    return wrapper
