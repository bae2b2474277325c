"""A page whose form was refused by a rate limit answers 429, not 200: allauth's sign-in and
MFA forms report limits as form errors (see ``accounts.ratelimit.is_rate_limited``).
``middleware.after_auth`` applies it to every template response."""

from __future__ import annotations

from django.forms import BaseForm
from django.http import HttpResponse

from accounts.ratelimit import is_rate_limited


def mark_rate_limited(response: HttpResponse) -> HttpResponse:
    """``response`` with status 429 if it is a 200 showing a bound form a limit refused."""
    context = getattr(response, "context_data", None) or {}
    if response.status_code == 200 and any(
        isinstance(value, BaseForm) and value.is_bound and is_rate_limited(value)
        for value in context.values()
    ):
        response.status_code = 429
    return response
