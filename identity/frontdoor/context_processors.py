"""Template context for the front door: the platform's URL, whether sign-up is open, and the
header's account switcher (computed only if the page shows it: from cached memberships)."""

from __future__ import annotations

from functools import partial

from django.conf import settings
from django.http import HttpRequest

from tenancy.hosts import tenant_url

from .switcher import switcher_for


def front_door(request: HttpRequest) -> dict:
    return {
        "platform_url": tenant_url(request, None) if hasattr(request, "get_port") else "/",
        "signup_open": settings.SIGNUP_OPEN,
        # a callable: the template calls it once, in the header of a signed-in page
        "account_switcher": partial(switcher_for, getattr(request, "user", None),
                                    getattr(request, "account", None)),
    }
