"""The sign-in start and callback of an account's OIDC provider (allauth's views with
:class:`adapter.TenantOIDCAdapter`): the start is rate limited per provider and client address
and answers a clear page when the provider is not ready; the callback hands the stashed nonce
to the ID token check."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.decorators import login_not_required
from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView, OAuth2LoginView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from tenancy.client_ip import client_ip
from tenancy.ratelimit import is_limited, record_failure

from ..caching import provider_by_slug
from .adapter import ProviderNotReady, TenantOIDCAdapter

#: Sign-in starts per provider and client address per window.
START_LIMIT, START_WINDOW = 20, 300


def _page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    context = {"status": status, "title": title, "message": message}
    return render(request, "error.html", context, status=status)


class TenantCallbackView(OAuth2CallbackView):
    adapter: TenantOIDCAdapter

    def _get_state(self, request: HttpRequest, provider: Any) -> Any:
        state, resp = super()._get_state(request, provider)
        if state is not None:
            self.adapter.expected_nonce = state.get("nonce")
        return state, resp


@login_not_required
def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    account = getattr(request, "account", None)
    config = provider_by_slug(account.pk if account else None, provider_id)
    if config is None or config.kind != "oidc":
        raise Http404
    if not config.oidc_discovery:  # never fetched here: checked when saved, refreshed by a task
        return _page(request, 503, "Sign-in unavailable",
                     "This identity provider is not ready: ask your account admin to test its "
                     "connection in the console.")
    key = f"sso-start:{provider_id}:{client_ip(request)}"
    if request.method == "POST":
        if is_limited(key, START_LIMIT):
            return _page(request, 429, "Too many sign-in attempts",
                         "Too many sign-ins were started from your address; wait a few minutes.")
        record_failure(key, START_WINDOW)
    try:
        return OAuth2LoginView.adapter_view(TenantOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None


@login_not_required
def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    try:
        return TenantCallbackView.adapter_view(TenantOIDCAdapter(request, provider_id))(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
    except ProviderNotReady:
        return _page(request, 503, "Sign-in unavailable", "This identity provider is not ready.")
