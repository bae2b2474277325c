"""Per-account daily usage: each request served to an account is counted (``accounts.usage``,
in memory, written in batches). Placed after authentication and the membership check; read
after the view, so an API key's member (set inside the view) counts as active too."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from accounts import usage


class UsageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        account = getattr(request, "account", None)
        if account is not None:
            profile = getattr(request, "user_profile", None)
            usage.record(account.pk, request.path_info.startswith("/api/"),
                         profile.pk if profile is not None else None)
        return response
