"""allauth's socialaccount, per account: a host lists and uses only its own account's
identity providers (``list_apps`` is the one place apps come from: no database ``SocialApp``
rows, no settings apps; the provider an admin's session is test-signing in through is added for
that session, :mod:`sso.testsignin`), and every sign-in goes through :mod:`sso.signin`."""

from __future__ import annotations

from typing import Any

from allauth.core import context
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.http import HttpRequest

from audit.recorder import record
from tenancy.egress import EgressSession

from . import roles, signin, testsignin
from .caching import account_providers
from .socialapps import social_app


class TenantSocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request: HttpRequest | None, provider: str | None = None,
                  client_id: str | None = None) -> list[Any]:
        """The host's account's enabled providers, matching allauth's filters."""
        request = request or context.request
        account = getattr(request, "account", None) if request is not None else None
        configs = list(account_providers(account.pk if account else None))
        testing = testsignin.testing_config(request)
        if testing is not None and all(c.slug != testing.slug for c in configs):
            configs.append(testing)
        if account is not None and _serving_sp_metadata(request):
            configs = _all_saml_providers(account.pk)  # pasted into the IdP before enabling
        apps = [social_app(c) for c in configs]
        if provider:
            apps = [a for a in apps if provider in (a.provider, a.provider_id)]
        if client_id:
            apps = [a for a in apps if a.client_id == client_id]
        return apps

    def get_requests_session(self) -> EgressSession:
        """allauth's token and userinfo requests go to URLs a tenant chose: the egress rules."""
        return EgressSession()

    def on_authentication_error(self, request: HttpRequest, provider: Any, error: Any = None,
                                exception: Any = None, extra_context: Any = None) -> None:
        """A refused sign-in (bad ID token, unreachable endpoint...) is in the account's audit
        log with the reason, for the admin setting the provider up; the member sees allauth's
        sign-in error page."""
        account = getattr(request, "account", None)
        testing = testsignin.testing_config(request, str(getattr(provider, "sub_id", "") or ""))
        if account is not None:
            record("sso.refused", account_id=account.pk, target_kind="accounts.account", target_id=account.pk,
                   target_repr=str(getattr(getattr(provider, "app", None), "name", "") or ""),
                   changes={"reason": str(exception or error or "")[:200],
                            "provider": str(getattr(provider, "sub_id", ""))})
        if testing is not None:
            reason = str(exception or error or "refused by the identity provider")
            raise testsignin.failed(request, testing, reason)
        super().on_authentication_error(request, provider, error=error, exception=exception,
                                        extra_context=extra_context)

    def pre_social_login(self, request: HttpRequest, sociallogin: Any) -> None:
        testing = testsignin.testing_config(request, sociallogin.account.provider)
        if testing is not None:  # the admin's test: checked, recorded, nobody signed in
            refusal = signin.address_refusal(request, sociallogin, testing)
            if refusal:
                raise testsignin.failed(request, testing, refusal[1])
            raise testsignin.finish(request, sociallogin, testing, signin.idp_email(sociallogin))
        signin.pre_social_login(request, sociallogin)
        config = signin.provider_for(request, sociallogin)
        roles.after_sign_in(request, sociallogin, config,
                            signin.groups_of(sociallogin.account.extra_data or {}, config.groups_attribute))

    def is_open_for_signup(self, request: HttpRequest, sociallogin: Any) -> bool:
        """A first sign-in through one of the host's account's providers creates the member
        (pre_social_login has checked the address)."""
        return testsignin.config_for(request, sociallogin.account.provider) is not None

    def save_user(self, request: HttpRequest, sociallogin: Any, form: Any = None) -> Any:
        user = super().save_user(request, sociallogin, form)
        config = signin.provider_for(request, sociallogin)
        signin.ensure_member(request, user, sociallogin.state.get("sso_role") or config.default_role,
                             created_user=True)
        return user


def _serving_sp_metadata(request: HttpRequest | None) -> bool:
    match = getattr(request, "resolver_match", None)
    return bool(match is not None and match.url_name == "saml_metadata")


def _all_saml_providers(account_id: int) -> list[Any]:
    """The account's SAML providers, disabled ones too: their SP metadata (entity ID, ACS URL,
    nothing secret) is what the admin gives the IdP before a test sign-in can work."""
    from .caching import config_of
    from .models import IdentityProvider

    rows = IdentityProvider.objects.filter(account_id=account_id, kind=IdentityProvider.SAML)
    return [config_of(p) for p in rows.select_related("account")]
