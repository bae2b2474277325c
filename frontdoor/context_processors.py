"""Template context for the front door: the platform's URL and whether sign-up is open."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from tenancy.hosts import tenant_url


def front_door(request: HttpRequest) -> dict:
    return {
        "platform_url": tenant_url(request, None) if hasattr(request, "get_port") else "/",
        "signup_open": settings.SIGNUP_OPEN,
    }
