"""A page whose form was refused by a rate limit answers 429, not 200: allauth's sign-in and
MFA forms report limits as form errors (see ``accounts.ratelimit.is_rate_limited``)."""

from __future__ import annotations

from collections.abc import Callable

from django.forms import BaseForm
from django.http import HttpRequest, HttpResponse

from accounts.ratelimit import is_rate_limited


class RateLimitedFormMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_template_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        context = getattr(response, "context_data", None) or {}
        if response.status_code == 200 and any(
            isinstance(value, BaseForm) and value.is_bound and is_rate_limited(value)
            for value in context.values()
        ):
            response.status_code = 429
        return response
