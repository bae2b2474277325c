"""Per-account daily usage: each request served to an account is counted (``accounts.usage``,
in memory, written in batches). Called by ``middleware.after_auth`` after the view, so an API
key's member (set inside the view) counts as active too."""

from __future__ import annotations

from django.http import HttpRequest

from accounts import usage


def record_usage(request: HttpRequest) -> None:
    """Count the answered ``request`` for its account (none on hosts without one)."""
    account = getattr(request, "account", None)
    if account is not None:
        profile = getattr(request, "user_profile", None)
        usage.record(account.pk, request.path_info.startswith("/api/"),
                     profile.pk if profile is not None else None)
