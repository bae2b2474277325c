"""Host to tenant: ``request.account``, ``request.workspace`` and ``request.user_profile``.

``TenantHostMiddleware`` runs before sessions and auth: a malformed host is a 400, an
unknown or inactive account or workspace a 404, a host outside the platform is served only
as a verified custom domain (an unverified one 404, any other host 400), the URLconf is
the one ``smarter.hosts`` names for the host's kind (the host is parsed once, here), and the tenant is set in
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
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from django_hosts.resolvers import get_host_patterns

from accounts.models import Account
from accounts.utils import (
    get_cached_account,
    get_cached_account_by_number,
    get_cached_default_account,
    get_cached_profile,
)
from tenancy.allowed_hosts import is_statically_allowed, vouch
from tenancy.context import tenant_context
from tenancy.hosts import HostInfo, MalformedHost, UnknownHost, parse_host


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

    @cached_property
    def resolve_domain(self) -> Callable[[str], Any]:
        return import_string(settings.TENANCY_CUSTOM_DOMAIN_RESOLVER)

    @cached_property
    def resolve_canonical(self) -> Callable[[int], Any]:
        return import_string(settings.TENANCY_CANONICAL_DOMAIN_RESOLVER)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.rstrip("/") in settings.TENANCY_EXEMPT_PATHS:
            return self.get_response(request)
        try:
            # The Host as get_host() reads it, before its ALLOWED_HOSTS check (Django's own
            # helper): a custom domain is resolved here first, then vouched for.
            info = parse_host(request._get_raw_host())  # type: ignore[attr-defined]
        except MalformedHost as exc:
            raise DisallowedHost(f"Malformed host: {exc}") from None
        except UnknownHost:  # under the platform's root, which is always allowed
            raise Http404("No site is served at this address.") from None
        outside = info.kind == "platform" and info.host != settings.ROOT_DOMAIN
        if outside and not is_statically_allowed(info.host):
            return self.serve_custom_domain(request, info)
        request.get_host()  # DisallowedHost (400) outside ALLOWED_HOSTS
        if info.kind == "tenant":
            account = get_cached_account_by_number(info.account_number)
        else:
            try:
                account = get_cached_default_account()
            except Account.DoesNotExist:
                raise Http404("The platform is not initialised yet.") from None
        if account is None or not account.is_active:
            raise Http404("No such account.")
        workspace = self.workspace(account, info.workspace)
        if info.kind == "tenant" and request.method in ("GET", "HEAD"):
            redirect = self.canonical_redirect(request, account, info.workspace)
            if redirect is not None:
                return redirect
        return self.serve(request, info, account, workspace)

    def workspace(self, account: Account, name: str | None) -> Any:
        """The named workspace of ``account`` (None for no name); 404 if there is none."""
        if name is None:
            return None
        workspace = self.resolve_workspace(account.pk, name)
        if workspace is None:
            raise Http404("No such workspace.")
        return workspace

    def serve(self, request: HttpRequest, info: HostInfo, account: Account, workspace: Any) -> HttpResponse:
        request.urlconf = self.urlconf_by_kind[info.kind]  # type: ignore[attr-defined]
        request.host_info = info  # type: ignore[attr-defined]
        request.account = account  # type: ignore[attr-defined]
        request.workspace = workspace  # type: ignore[attr-defined]
        request.user_profile = None  # type: ignore[attr-defined]
        with tenant_context(account.pk):
            return self.get_response(request)

    def serve_custom_domain(self, request: HttpRequest, info: HostInfo) -> HttpResponse:
        """A host outside the platform: a verified custom domain serves its account
        (workspace) like its number host; a registered but unverified one is a 404; any
        other host is not allowed (400)."""
        route = self.resolve_domain(info.host)
        if route is None:
            raise DisallowedHost(f"Invalid HTTP_HOST header: {info.host!r}: not a platform host "
                                 "or a verified custom domain.")
        if not route.verified:
            raise Http404("This domain is not verified.")
        account = get_cached_account(route.account_id)
        if account is None or not account.is_active:
            raise Http404("No such account.")
        workspace = self.workspace(account, route.workspace)
        info = HostInfo(host=info.host, kind="tenant", account_number=account.account_number,
                        workspace=route.workspace, custom_domain=True)
        with vouch(info.host):
            request.get_host()  # Django's own check passes now, and on every later call
            response = self.serve(request, info, account, workspace)
        host_only_cookies(response)
        return response

    def canonical_redirect(self, request: HttpRequest, account: Account,
                           workspace: str | None) -> HttpResponse | None:
        """On a number host, a redirect to the account's canonical domain for its pages."""
        if request.path_info.startswith(settings.CUSTOM_DOMAIN_CANONICAL_EXEMPT):
            return None
        canonical = self.resolve_canonical(account.pk)
        if canonical is None or canonical.workspace != workspace:
            return None
        port = request.get_port()
        default = "443" if request.is_secure() else "80"
        suffix = "" if port in (default, "", None) else f":{port}"
        url = f"{request.scheme}://{canonical.hostname}{suffix}{request.get_full_path()}"
        return HttpResponseRedirect(url)


def host_only_cookies(response: HttpResponse) -> None:
    """Cookies the project would scope to the platform's domain are host-only here.

    An operator may share sessions across the platform's subdomains
    (``SESSION_COOKIE_DOMAIN``); on a custom domain that attribute would make browsers drop
    the cookie, and a custom domain's session must never reach another host anyway.
    """
    shared = {settings.SESSION_COOKIE_DOMAIN, settings.CSRF_COOKIE_DOMAIN} - {None, ""}
    for morsel in response.cookies.values():
        if morsel["domain"] in shared:
            morsel["domain"] = ""


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
