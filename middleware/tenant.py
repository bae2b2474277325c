"""Host to tenant: ``request.account``, ``request.workspace`` and ``request.user_profile``.

``TenantHostMiddleware`` runs before sessions and auth: a malformed host is a 400, an
unknown or inactive account or workspace a 404, a host outside the platform is served only
as a verified custom domain (an unverified one 404, any other host 400), the URLconf is
the one ``smarter.hosts`` names for the host's kind (the host is parsed once, here), and the tenant is set in
:mod:`tenancy.context` for the whole request (cleared afterwards, also on exceptions).
While pushed invalidations are active, a host's resolved route is remembered per process
and served until any level-1 eviction (see ``_routes``): a warm request makes one map read.
:func:`attach_member` runs after auth (``middleware.after_auth``): a signed-in user who is not
an active member of this tenant is treated as anonymous here, even if the session cookie is shared.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import DisallowedHost
from django.core.signals import setting_changed
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.functional import cached_property, lazy
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
from tenancy.cache import tenant_cache
from tenancy.client_origin import client_origin
from tenancy.context import reset_current_account_id, set_current_account_id
from tenancy.django_compat import raw_host, set_absolute_origin
from tenancy.hosts import HostInfo, MalformedHost, UnknownHost, parse_host


class Route(NamedTuple):
    """What a host resolves to: served as ``info`` by ``account`` (and ``workspace``), with
    the account's canonical domain where a number host should redirect to it."""

    info: HostInfo
    account: Account
    workspace: Any
    canonical: Any  # domains.routing.CanonicalDomain | None; number hosts only


class Memo(NamedTuple):
    route: Route
    stamp: int  # tenancy.cache.TwoLevelCache.stamp() taken before the route's lookups
    expires: float


#: ``client_origin`` as a lazy string: Django's ``build_absolute_uri`` only adds it to a path.
_lazy_origin = lazy(client_origin, str)

#: raw Host header -> route, per process. A route is derived from several cached lookups
#: (account, workspace, canonical domain, custom domain); while push invalidation is active
#: and nothing was evicted since (``tenant_cache.unchanged_since``) every one of them would
#: answer the same, so a warm request reads this one map. Bounded (emptied when full: the
#: raw header is the client's), emptied on any settings change, and each route lives at
#: most ``TENANCY_L1_TTL`` like the entries it comes from.
_routes: dict[str, Memo] = {}


#: settings.TENANCY_EXEMPT_PATHS, read once per process (not a settings access per request)
_exempt_paths: list[tuple[str, ...]] = []


def _settings_changed(**kwargs: Any) -> None:
    _routes.clear()
    _exempt_paths.clear()


setting_changed.connect(_settings_changed)


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
        if not _exempt_paths:
            _exempt_paths.append(tuple(settings.TENANCY_EXEMPT_PATHS))
        if request.path_info.rstrip("/") in _exempt_paths[0]:
            return self.get_response(request)
        # The Host as get_host() reads it, before its ALLOWED_HOSTS check (Django's own
        # helper): a custom domain is resolved here first, then vouched for.
        raw = raw_host(request)
        memo = _routes.get(raw)
        if memo is not None and tenant_cache.unchanged_since(memo.stamp) and time.monotonic() < memo.expires:
            route = memo.route
        else:
            route = self.route(request, raw)
        vouch(request, raw)  # allowed (checked by route()): later get_host()s need not ask
        # Every build_absolute_uri() of this request (allauth's reset and verification links,
        # pagination) on the client's scheme and port, never the Host's claimed or the bind port;
        # worked out when first used (most requests build no absolute URL).
        set_absolute_origin(request, _lazy_origin(request, route.info.host))
        if route.info.custom_domain:
            response = self.serve(request, route)
            if response.cookies:
                host_only_cookies(response)
            return response
        if route.canonical is not None and request.method in ("GET", "HEAD"):
            redirect = self.canonical_redirect(request, route)
            if redirect is not None:
                return redirect
        return self.serve(request, route)

    def route(self, request: HttpRequest, raw: str) -> Route:
        """Resolve ``raw`` through the cached lookups (remembered when push allows it);
        raise DisallowedHost (400) or Http404 for a host that is not served."""
        stamp = tenant_cache.stamp()  # before any lookup
        try:
            info = parse_host(raw)
        except MalformedHost as exc:
            raise DisallowedHost(f"Malformed host: {exc}") from None
        except UnknownHost:  # under the platform's root, which is always allowed
            raise Http404("No site is served at this address.") from None
        if is_statically_allowed(info.host):
            route = self.platform_route(info)
        elif info.kind == "platform" and info.host != settings.ROOT_DOMAIN:
            route = self.custom_domain_route(info)
        else:
            request.get_host()  # DisallowedHost (400) outside ALLOWED_HOSTS
            route = self.platform_route(info)
        if stamp is not None and tenant_cache.unchanged_since(stamp):
            if len(_routes) >= settings.TENANCY_L1_MAXSIZE:
                _routes.clear()
            _routes[raw] = Memo(route, stamp, time.monotonic() + settings.TENANCY_L1_TTL)
        return route

    def platform_route(self, info: HostInfo) -> Route:
        """A host under the platform's root (or statically allowed): its account by number,
        or the default account."""
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
        canonical = self.resolve_canonical(account.pk) if info.kind == "tenant" else None
        return Route(info, account, workspace, canonical)

    def custom_domain_route(self, info: HostInfo) -> Route:
        """A host outside the platform: a verified custom domain serves its account
        (workspace) like its number host; a registered but unverified one is a 404; any
        other host is not allowed (400)."""
        domain = self.resolve_domain(info.host)
        if domain is None:
            raise DisallowedHost(f"Invalid HTTP_HOST header: {info.host!r}: not a platform host "
                                 "or a verified custom domain.")
        if not domain.verified:
            raise Http404("This domain is not verified.")
        account = get_cached_account(domain.account_id)
        if account is None or not account.is_active:
            raise Http404("No such account.")
        workspace = self.workspace(account, domain.workspace)
        info = HostInfo(host=info.host, kind="tenant", account_number=account.account_number,
                        workspace=domain.workspace, custom_domain=True)
        return Route(info, account, workspace, None)

    def workspace(self, account: Account, name: str | None) -> Any:
        """The named workspace of ``account`` (None for no name); 404 if there is none."""
        if name is None:
            return None
        workspace = self.resolve_workspace(account.pk, name)
        if workspace is None:
            raise Http404("No such workspace.")
        return workspace

    def serve(self, request: HttpRequest, route: Route) -> HttpResponse:
        info = route.info
        request.urlconf = self.urlconf_by_kind[info.kind]  # type: ignore[attr-defined]
        request.host_info = info  # type: ignore[attr-defined]
        request.account = route.account  # type: ignore[attr-defined]
        request.workspace = route.workspace  # type: ignore[attr-defined]
        request.user_profile = None  # type: ignore[attr-defined]
        token = set_current_account_id(route.account.pk)  # tenant_context, without its generator
        try:
            return self.get_response(request)
        finally:
            reset_current_account_id(token)

    @staticmethod
    def canonical_redirect(request: HttpRequest, route: Route) -> HttpResponse | None:
        """On a number host, a redirect to the account's canonical domain for its pages."""
        canonical = route.canonical
        if canonical.workspace != route.info.workspace or request.path_info.startswith(
            settings.CUSTOM_DOMAIN_CANONICAL_EXEMPT
        ):
            return None
        return HttpResponseRedirect(client_origin(request, canonical.hostname) + request.get_full_path())


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


#: On the bare domain, the pages of the person rather than of the default account: its front
#: page, sign-in and out, the chooser and switcher, profile, password, addresses, two-factor.
PERSONAL_PATHS = ("/accounts/", "/login/", "/logout/")


def is_personal_page(request: HttpRequest) -> bool:
    """Whether a person signed in on the bare domain who is no member of the default account
    keeps their identity on this page (:func:`attach_member`)."""
    info = getattr(request, "host_info", None)
    path = request.path_info
    return (info is not None and info.kind == "platform" and not info.custom_domain
            and (path == "/" or path.startswith(PERSONAL_PATHS)))


def attach_member(request: HttpRequest) -> None:
    """Set ``request.user_profile`` to the signed-in user's active membership of this tenant;
    a signed-in stranger to it (not a platform superuser) becomes anonymous here.

    One exception: everyone may sign in on the bare domain (one sign-in for all accounts),
    and there a signed-in non-member of the default account stays signed in on the personal
    pages only (``PERSONAL_PATHS`` and the front page), with no profile: nothing of the
    default account is theirs; on every other page of it they are anonymous."""
    if request.session.session_key is not None:  # no session: anonymous already, no load
        attach_signed_in_member(request)


def attach_signed_in_member(request: HttpRequest) -> None:
    """:func:`attach_member` for a request with a session cookie (the caller checked)."""
    account = getattr(request, "account", None)
    user = getattr(request, "user", None)
    if account is not None and user is not None and user.is_authenticated:
        profile = get_cached_profile(user.pk, account.pk)
        if profile is not None and profile.is_active and user.is_active:
            request.user_profile = profile  # type: ignore[attr-defined]
        elif not user.is_superuser and not (user.is_active and is_personal_page(request)):
            request.user = AnonymousUser()


class TenantMembershipMiddleware:
    """:func:`attach_member` as a middleware of its own (the product runs it inside
    ``middleware.after_auth``; the like-for-like bench against django-tenants uses this)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        attach_member(request)
        return self.get_response(request)
