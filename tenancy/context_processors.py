"""Template context: the tenant the request addresses."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def tenant(request: HttpRequest) -> dict:
    """Expose the request's account, workspace and profile plus the host settings."""
    return {
        "account": getattr(request, "account", None),
        "workspace": getattr(request, "workspace", None),
        "user_profile": getattr(request, "user_profile", None),
        "ROOT_DOMAIN": settings.ROOT_DOMAIN,
        "ENVIRONMENT": settings.ENVIRONMENT,
    }
