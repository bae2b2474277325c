"""Console → Security → Single sign-on: the account's identity providers (add OIDC or SAML,
which tests the connection and stores the published configuration; test again, test sign-in,
enable once a test sign-in succeeded, disable, remove), the values to paste into the IdP, and the
required-SSO policy."""

from __future__ import annotations

from typing import Any

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.db import IntegrityError, transaction
from django.forms import ModelForm
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Account
from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest
from identity.sso import metadata, testsignin
from identity.sso.caching import account_providers, config_of
from identity.sso.forms import OidcProviderForm, SamlProviderForm, SsoPolicyForm
from identity.sso.models import IdentityProvider
from identity.sso.templatetags.sso import idp_origin


def _providers(request: TenantRequest) -> Any:
    return IdentityProvider.objects.filter(account=request.account).select_related("account")


def sp_values(request: TenantRequest, provider: IdentityProvider) -> list[tuple[str, str]]:
    """What the customer pastes into their IdP, on this host."""
    url = request.build_absolute_uri
    if provider.kind == IdentityProvider.OIDC:
        callback = reverse("openid_connect_callback", kwargs={"provider_id": provider.slug})
        return [("Redirect URI", url(callback))]
    metadata = url(reverse("saml_metadata", kwargs={"organization_slug": provider.slug}))
    return [("ACS URL", url(reverse("saml_acs", kwargs={"organization_slug": provider.slug}))),
            ("SP entity ID", metadata), ("SP metadata", metadata)]


@account_admin_required
def sso_overview(request: TenantRequest) -> HttpResponse:
    account = Account.objects.get(pk=request.account.pk)
    form = SsoPolicyForm(request.POST or None, instance=account,
                         admin_has_totp=is_mfa_enabled(request.user, [Authenticator.Type.TOTP]),
                         has_providers=bool(account_providers(account.pk)))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Single sign-on policy saved.")
        return redirect("sso")
    providers = list(_providers(request))
    # Test sign-in posts from this page and is redirected to the IdP: the form-action policy
    # (held on redirects) admits the providers' origins, as the sign-in page does.
    origins = sorted({o for o in (idp_origin(config_of(p)) for p in providers) if o})
    if origins:
        request._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
    return render(request, "console/sso.html", {
        "providers": [(p, sp_values(request, p)) for p in providers], "form": form,
    })


def _add(request: TenantRequest, form_class: type[ModelForm], kind: str) -> HttpResponse:
    form = form_class(request.POST or None, instance=IdentityProvider(account=request.account))
    if request.method == "POST" and form.is_valid():
        provider = form.save(commit=False)
        provider.account = request.account
        try:
            with transaction.atomic():
                provider.save()
        except IntegrityError:
            form.add_error(None, "Another provider was added at the same moment; try again.")
        else:
            messages.success(request, f"{provider.name} added; connection tested. It stays disabled: "
                                      "paste the values shown into your identity provider, run a test "
                                      "sign-in, and enable it once that succeeded.")
            return redirect("sso")
    return render(request, "console/sso_add.html", {"form": form, "kind": kind})


@account_admin_required
def add_oidc(request: TenantRequest) -> HttpResponse:
    return _add(request, OidcProviderForm, "OpenID Connect")


@account_admin_required
def add_saml(request: TenantRequest) -> HttpResponse:
    return _add(request, SamlProviderForm, "SAML 2.0")


@require_POST
@account_admin_required
def provider_enable(request: TenantRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(_providers(request), pk=pk)
    provider.enabled = request.POST.get("enabled") == "1"
    refusal = provider.enable_refusal() if provider.enabled else ""
    if refusal:
        messages.error(request, f"{provider.name} cannot be enabled yet: {refusal}")
        return redirect("sso")
    provider.save(update_fields=["enabled", "updated_at"])
    messages.success(request, f"{provider.name} {'enabled' if provider.enabled else 'disabled'}.")
    return redirect("sso")


@require_POST
@account_admin_required
def provider_check(request: TenantRequest, pk: int) -> HttpResponse:
    """Test connection: fetch and check the provider's discovery document and keys (or SAML
    metadata) again and store them."""
    provider = get_object_or_404(_providers(request), pk=pk)
    error = metadata.refresh(provider)
    if error:
        messages.error(request, f"{provider.name}: connection test failed: {error}")
    else:
        messages.success(request, f"{provider.name}: connection tested, configuration stored.")
    return redirect("sso")


@require_POST
@account_admin_required
def provider_test_sign_in(request: TenantRequest, pk: int) -> HttpResponse:
    """Test sign-in: the admin goes through the IdP as a member would; a success is recorded on
    the provider (and lets it be enabled), nobody is signed in (:mod:`identity.sso.testsignin`)."""
    provider = get_object_or_404(_providers(request), pk=pk)
    if provider.needs_connection_test:
        messages.error(request, f"{provider.name}: test its connection first.")
        return redirect("sso")
    return testsignin.start(request, provider)


@require_POST
@account_admin_required
def provider_delete(request: TenantRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(_providers(request), pk=pk)
    provider.delete()
    messages.success(request, f"{provider.name} removed; its members keep their membership.")
    return redirect("sso")
