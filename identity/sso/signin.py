"""What an SSO sign-in does on the account's host: trust only addresses of the account's
verified email domains, create or link the member (role from the provider's default or its
admin group), refuse deactivated members, and record the sign-in (source ``sso``) with the
session's SSO max age."""

from __future__ import annotations

from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from django.db import transaction
from django.http import HttpRequest
from django.shortcuts import render

from accounts.membership import AmbiguousEmail, user_for_email
from accounts.models import Account, UserProfile
from identity.emaildomains.lookup import is_trusted_email

from .caching import ProviderConfig, provider_by_slug


def refuse(request: HttpRequest, title: str, message: str, status: int = 403) -> ImmediateHttpResponse:
    """An exception allauth turns into this clear page; the refusal is in the audit log."""
    from audit.recorder import record

    account = getattr(request, "account", None)
    if account is not None:
        record("sso.refused", account_id=account.pk, target_kind="accounts.account", target_id=account.pk,
               target_repr=title, changes={"reason": message[:200]})
    return ImmediateHttpResponse(render(request, "error.html", {
        "status": status, "title": title, "message": message,
    }, status=status))


def provider_for(request: HttpRequest, sociallogin: Any) -> ProviderConfig:
    """The host's account's provider this sign-in came through (refused if it is not one)."""
    account = getattr(request, "account", None)
    config = provider_by_slug(account.pk if account else None, sociallogin.account.provider)
    if config is None:
        raise refuse(request, "Unknown identity provider",
                     "This identity provider is not set up for this account.")
    return config


def groups_of(extra_data: dict[str, Any], attribute: str) -> list[str]:
    """The person's groups from an OIDC claim (userinfo or ID token) or a SAML attribute."""
    if not attribute:
        return []
    for source in (extra_data, extra_data.get("userinfo") or {}, extra_data.get("id_token") or {}):
        value = source.get(attribute) if isinstance(source, dict) else None
        if isinstance(value, str):
            return [value]
        if isinstance(value, list | tuple):
            return [str(v) for v in value]
    return []


def role_for(config: ProviderConfig, extra_data: dict[str, Any]) -> str:
    if config.admin_group and config.admin_group in groups_of(extra_data, config.groups_attribute):
        return UserProfile.ROLE_ADMIN
    return config.default_role


def _email(sociallogin: Any) -> str:
    for address in sociallogin.email_addresses:
        if address.primary:
            return str(address.email)
    if sociallogin.email_addresses:
        return str(sociallogin.email_addresses[0].email)
    return str(getattr(sociallogin.user, "email", "") or "")


def trust_address(request: HttpRequest, sociallogin: Any) -> str:
    """The IdP's address, refused unless it lies in a verified domain of the account; it is then
    recorded as verified (the account proved the domain)."""
    from allauth.account.models import EmailAddress

    account: Account = request.account  # type: ignore[attr-defined]
    email = _email(sociallogin).strip().lower()
    if not email or not is_trusted_email(account.pk, email):
        raise refuse(request, "Address not accepted",
                     f"{email or 'No address'} is not in a verified email domain of {account.company_name}. "
                     "Ask your account admin to verify the domain, or sign in with your password.")
    if not sociallogin.is_existing:
        sociallogin.email_addresses = [EmailAddress(email=email, verified=True, primary=True)]
        sociallogin.user.email = email
    return email


def ensure_member(request: HttpRequest, user: Any, role: str, *, created_user: bool) -> UserProfile:
    """The user's profile in the host's account, made on a first SSO sign-in; a deactivated
    member stays out."""
    account: Account = request.account  # type: ignore[attr-defined]
    with transaction.atomic():
        profile, _made = UserProfile.objects.get_or_create(
            user=user, account=account, defaults={"role": role, "created_user": created_user})
    if not profile.is_active:
        raise refuse(request, "Membership deactivated",
                     f"Your membership of {account.company_name} is deactivated; ask an account admin.")
    return profile


def pre_social_login(request: HttpRequest, sociallogin: Any) -> None:
    """Before allauth signs in, signs up or links: the address rule, then the member."""
    config = provider_for(request, sociallogin)
    email = trust_address(request, sociallogin)
    role = role_for(config, sociallogin.account.extra_data or {})
    if sociallogin.is_existing:
        ensure_member(request, sociallogin.user, role, created_user=False)
        return
    try:
        user = user_for_email(email)
    except AmbiguousEmail:
        raise refuse(request, "Address not accepted",
                     "Several people use this address here; ask your account admin.") from None
    if user is None:
        sociallogin.state["sso_role"] = role  # the new user's membership: save_user
        return
    ensure_member(request, user, role, created_user=False)
    sociallogin.connect(request, user)
    from audit.recorder import record

    record("sso.identity_linked", account_id=request.account.pk,  # type: ignore[attr-defined]
           target_kind="auth.user", target_id=user.pk, target_repr=user.get_username(),
           changes={"provider": config.slug})


def signed_in(request: HttpRequest, user: Any, sociallogin: Any) -> None:
    """Audit the sign-in and give the session the account's SSO max age."""
    from audit.recorder import record

    account = getattr(request, "account", None)
    if account is None:
        return
    max_age = int(getattr(account, "sso_session_max_age", 0) or 0)
    if max_age:
        request.session.set_expiry(max_age)
    record("sso.signed_in", account_id=account.pk, target_kind="auth.user", target_id=user.pk,
           target_repr=user.get_username(), changes={"provider": sociallogin.account.provider})
