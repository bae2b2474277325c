"""Host to tenant: ``request.account``, ``request.workspace`` and ``request.user_profile``.

``TenantHostMiddleware`` runs before sessions and auth: a malformed host is a 400, an
unknown or inactive account or workspace a 404, the URLconf is the one ``smarter.hosts``
names for the host's kind (the host is parsed once, here), and the tenant is set in
:mod:`tenancy.context` for the whole request (cleared afterwards, also on exceptions).
``TenantMembershipMiddleware`` runs after auth: a signed-in user who is not an active
member of this tenant is treated as anonymous here, even if the session cookie is shared.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from django_hosts.resolvers import get_host_patterns

from accounts.models import Account
from accounts.utils import (
    get_cached_account_by_number,
    get_cached_default_account,
    get_cached_profile,
)
from tenancy.context import tenant_context
from tenancy.hosts import MalformedHost, UnknownHost, parse_host


class TenantHostMiddleware:
    """Resolve the request's host to an active Account (and Workspace)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def resolve_workspace(self) -> Callable[[int, str], Any]:
        return import_string(settings.TENANCY_WORKSPACE_RESOLVER)

    @cached_property
    def urlconf_by_kind(self) -> dict[str, str]:
        """Host kind -> URLconf, from the django-hosts patterns (named after the kinds)."""
        return {host.name: host.urlconf for host in get_host_patterns()}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.rstrip("/") in settings.TENANCY_EXEMPT_PATHS:
            return self.get_response(request)
        raw = request.get_host()  # DisallowedHost (400) outside ALLOWED_HOSTS
        try:
            info = parse_host(raw)
        except MalformedHost as exc:
            raise DisallowedHost(f"Malformed host: {exc}") from None
        except UnknownHost:
            raise Http404("No site is served at this address.") from None
        if info.kind == "tenant":
            account = get_cached_account_by_number(info.account_number)
        else:
            try:
                account = get_cached_default_account()
            except Account.DoesNotExist:
                raise Http404("The platform is not initialised yet.") from None
        if account is None or not account.is_active:
            raise Http404("No such account.")
        workspace = None
        if info.workspace is not None:
            workspace = self.resolve_workspace(account.pk, info.workspace)
            if workspace is None:
                raise Http404("No such workspace.")
        request.urlconf = self.urlconf_by_kind[info.kind]  # type: ignore[attr-defined]
        request.host_info = info  # type: ignore[attr-defined]
        request.account = account  # type: ignore[attr-defined]
        request.workspace = workspace  # type: ignore[attr-defined]
        request.user_profile = None  # type: ignore[attr-defined]
        with tenant_context(account.pk):
            return self.get_response(request)


class TenantMembershipMiddleware:
    """Attach the member's profile; strangers to this tenant are anonymous here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return self.get_response(request)  # no session: anonymous already, skip the load
        account = getattr(request, "account", None)
        user = getattr(request, "user", None)
        if account is not None and user is not None and user.is_authenticated:
            profile = get_cached_profile(user.pk, account.pk)
            if profile is not None and profile.is_active and user.is_active:
                request.user_profile = profile  # type: ignore[attr-defined]
            elif not user.is_superuser:
                request.user = AnonymousUser()
        return self.get_response(request)
