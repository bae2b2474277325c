"""The admin's test sign-in: the real round trip through the account's IdP (OIDC: nonce, PKCE,
signed ID token; SAML: signed response to the ACS) for a provider that may still be disabled,
which signs nobody in and links nobody. The console starts it for one provider and marks this
session; the callback (through allauth, as any sign-in) finds the mark, checks the address the
IdP sent as a real sign-in would, records the success on the provider
(``test_signed_in_at``, which enabling requires) and returns to the console.

The mark makes a disabled provider usable by this session only, only for an account admin of
the host's account, and only for :data:`MAX_AGE` seconds."""

from __future__ import annotations

import time
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone

from accounts.models import UserProfile
from audit.recorder import record

from .caching import ProviderConfig, config_of, provider_by_slug
from .models import IdentityProvider

SESSION_KEY = "sso_test_sign_in"
MAX_AGE = 600  # seconds from the start of a test sign-in to its callback


def start(request: HttpRequest, provider: IdentityProvider) -> HttpResponse:
    """Mark this session and send the browser to the IdP, as the sign-in button would."""
    from allauth.socialaccount.adapter import get_adapter

    request.session[SESSION_KEY] = {"pk": provider.pk, "slug": provider.slug, "at": time.time()}
    social = get_adapter(request).get_provider(request, provider.slug)
    return social.redirect(request, process="login", next_url=reverse("sso"))  # type: ignore[no-any-return]


def _admin_of_host(request: HttpRequest) -> bool:
    user, account = getattr(request, "user", None), getattr(request, "account", None)
    if user is None or account is None or not user.is_authenticated:
        return False
    return UserProfile.objects.filter(user=user, account=account, role=UserProfile.ROLE_ADMIN,
                                      is_active=True).exists()


def testing_config(request: HttpRequest | None, slug: str | None = None) -> ProviderConfig | None:
    """The provider this session is test-signing in through (``slug`` when given), or None."""
    session = getattr(request, "session", None)
    mark = session.get(SESSION_KEY) if session is not None else None
    if not isinstance(mark, dict) or (slug is not None and mark.get("slug") != slug):
        return None
    if time.time() - float(mark.get("at") or 0) > MAX_AGE or not _admin_of_host(request):  # type: ignore[arg-type]
        return None
    row = (IdentityProvider.objects.filter(pk=mark.get("pk"), account=request.account)  # type: ignore[union-attr]
           .select_related("account").first())
    return config_of(row) if row is not None and row.slug == mark.get("slug") else None


def config_for(request: HttpRequest | None, slug: str) -> ProviderConfig | None:
    """The host's account's enabled provider ``slug``, or the one this session is testing."""
    account = getattr(request, "account", None)
    return provider_by_slug(account.pk if account else None, slug) or testing_config(request, slug)


def is_test(request: HttpRequest, slug: str) -> bool:
    return testing_config(request, slug) is not None


def _back(request: HttpRequest) -> ImmediateHttpResponse:
    request.session.pop(SESSION_KEY, None)
    return ImmediateHttpResponse(HttpResponseRedirect(reverse("sso")))


def failed(request: HttpRequest, config: ProviderConfig, reason: str) -> ImmediateHttpResponse:
    """Back to the console with why the test sign-in failed (the provider stays untested)."""
    messages.error(request, f"{config.name}: test sign-in failed: {reason}")
    return _back(request)


def finish(request: HttpRequest, sociallogin: Any, config: ProviderConfig,
           email: str) -> ImmediateHttpResponse:
    """The IdP's answer passed allauth's checks and the sign-in's address check (``email``,
    :func:`sso.signin.address_refusal`): record the success and go back to the console.
    Nobody is signed in or linked."""
    IdentityProvider.objects.filter(pk=config.pk).update(test_signed_in_at=timezone.now(),
                                                         updated_at=timezone.now())
    record("sso.provider_tested", account_id=config.account_id, target_kind="sso.identityprovider",
           target_id=config.pk, target_repr=config.name,
           changes={"provider": config.slug, "email": email,
                    "subject": str(sociallogin.account.uid or "")[:200]})
    messages.success(request, f"{config.name}: test sign-in succeeded as {email}. You can enable it now.")
    return _back(request)
