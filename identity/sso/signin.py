"""What an SSO sign-in does on the account's host: trust only addresses of the account's
verified email domains (and, for OIDC, confirmed by the IdP), find the user as
:mod:`identity.trust` says (the account's member, a new member, or a user elsewhere who must
confirm with their own password first), make the membership (role from the provider's default
or its admin group), refuse deactivated members, and record the sign-in (source ``sso``) with
the session's SSO max age."""

from __future__ import annotations

import time
from typing import Any

from allauth.core.exceptions import ImmediateHttpResponse
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.actions.members import do_add_member
from accounts.membership import AmbiguousEmail
from accounts.models import Account, UserProfile
from audit.recorder import record
from identity import trust
from identity.emaildomains.lookup import is_trusted_email

from .caching import ProviderConfig
from .testsignin import config_for

#: The sign-in held while the person confirms it (:mod:`identity.sso.linking`).
SESSION_KEY = "sso_pending_link"


def refuse(request: HttpRequest, title: str, message: str, status: int = 403) -> ImmediateHttpResponse:
    """An exception allauth turns into this clear page; the refusal is in the audit log."""
    account = getattr(request, "account", None)
    if account is not None:
        record("sso.refused", account_id=account.pk, target_kind="accounts.account", target_id=account.pk,
               target_repr=title, changes={"reason": message[:200]})
    return ImmediateHttpResponse(render(request, "error.html", {
        "status": status, "title": title, "message": message,
    }, status=status))


def provider_for(request: HttpRequest, sociallogin: Any) -> ProviderConfig:
    """The host's account's provider this sign-in came through (refused if it is not one; the
    provider this session is test-signing in through counts, :mod:`sso.testsignin`)."""
    config = config_for(request, sociallogin.account.provider)
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


def idp_email(sociallogin: Any) -> str:
    """The address the IdP sent (its primary one), lower case; "" when it sent none."""
    for address in sociallogin.email_addresses:
        if address.primary:
            return str(address.email).strip().lower()
    if sociallogin.email_addresses:
        return str(sociallogin.email_addresses[0].email).strip().lower()
    return str(getattr(sociallogin.user, "email", "") or "").strip().lower()


def address_refusal(request: HttpRequest, sociallogin: Any, config: ProviderConfig) -> tuple[str, str] | None:
    """Why the IdP's address is not accepted (title, message), or None: it must lie in a
    verified domain of the account and, for a subject not linked yet, be confirmed by the IdP
    (OIDC ``email_verified``)."""
    account: Account = request.account  # type: ignore[attr-defined]
    email = idp_email(sociallogin)
    if not email or not is_trusted_email(account.pk, email):
        return ("Address not accepted",
                f"{email or 'No address'} is not in a verified email domain of {account.company_name}. "
                "Ask your account admin to verify the domain, or sign in with your password.")
    if not sociallogin.is_existing and not trust.idp_confirmed_address(config.kind, sociallogin, email):
        return ("Address not confirmed",
                f"Your identity provider does not confirm {email} (email_verified). "
                "Ask your account admin to have the address verified there.")
    return None


def trust_address(request: HttpRequest, sociallogin: Any, config: ProviderConfig) -> str:
    """The IdP's address, refused as :func:`address_refusal` says. It is kept *unverified*:
    the account's domain vouches for it in that account only (:mod:`identity.trust`), never as
    a globally verified address."""
    from allauth.account.models import EmailAddress

    refusal = address_refusal(request, sociallogin, config)
    if refusal:
        raise refuse(request, *refusal)
    email = idp_email(sociallogin)
    if sociallogin.is_existing:
        return email  # the subject is linked already: the address matches nobody
    sociallogin.email_addresses = [EmailAddress(email=email, verified=False, primary=True)]
    sociallogin.user.email = email
    return email


def ensure_member(request: HttpRequest, user: Any, role: str, *, created_user: bool) -> UserProfile:
    """The user's profile in the host's account, made on a first SSO sign-in; a deactivated
    member stays out."""
    account: Account = request.account  # type: ignore[attr-defined]
    profile, _made = do_add_member(account, user, role=role, created_user=created_user)
    if not profile.is_active:
        raise refuse(request, "Membership deactivated",
                     f"Your membership of {account.company_name} is deactivated; ask an account admin.")
    return profile


def ask_for_proof(request: HttpRequest, sociallogin: Any, user: Any, config: ProviderConfig,
                  role: str) -> HttpResponse:
    """Hold this sign-in and send the person to confirm with the existing user's credentials."""
    request.session[SESSION_KEY] = {
        "account": request.account.pk,  # type: ignore[attr-defined]
        "provider": config.slug, "uid": str(sociallogin.account.uid), "user": user.pk,
        "email": sociallogin.user.email, "role": role, "at": time.time(),
        "extra_data": sociallogin.account.extra_data or {},
    }
    return redirect("sso-link")


def pre_social_login(request: HttpRequest, sociallogin: Any) -> None:
    """Before allauth signs in: the address rule, then the user this subject is
    (:func:`identity.trust.match_sso_user`): a member of this account is linked, a new
    person is created as this account's member, and a user who exists outside the account
    confirms with their own password first (:mod:`identity.sso.linking`)."""
    config = provider_for(request, sociallogin)
    email = trust_address(request, sociallogin, config)
    role = role_for(config, sociallogin.account.extra_data or {})
    if sociallogin.is_existing:
        ensure_member(request, sociallogin.user, role, created_user=False)
        return
    account: Account = request.account  # type: ignore[attr-defined]
    try:
        match = trust.match_sso_user(account, email, (str(sociallogin.account.uid or ""),))
    except AmbiguousEmail:
        raise refuse(request, "Address not accepted",
                     "Several people use this address here; ask your account admin.") from None
    if match.outcome == trust.CONFIRM:
        raise ImmediateHttpResponse(ask_for_proof(request, sociallogin, match.user, config, role))
    if match.outcome == trust.NEW:
        from allauth.socialaccount.adapter import get_adapter

        sociallogin.state["sso_role"] = role  # the new user's membership: save_user
        get_adapter(request).save_user(request, sociallogin, form=None)
        return
    ensure_member(request, match.user, role, created_user=False)
    sociallogin.connect(request, match.user)
    linked(request, match.user, config, proof="member")


def linked(request: HttpRequest, user: Any, config: ProviderConfig, proof: str) -> None:
    """Audit a link of the account's IdP identity to a user, and how it was vouched for."""
    record("sso.identity_linked", account_id=request.account.pk,  # type: ignore[attr-defined]
           target_kind="auth.user", target_id=user.pk, target_repr=user.get_username(),
           changes={"provider": config.slug, "proof": proof})


def signed_in(request: HttpRequest, user: Any, sociallogin: Any) -> None:
    """Audit the sign-in and give the session the account's SSO max age."""
    account = getattr(request, "account", None)
    if account is None:
        return
    max_age = int(getattr(account, "sso_session_max_age", 0) or 0)
    if max_age:
        request.session.set_expiry(max_age)
    record("sso.signed_in", account_id=account.pk, target_kind="auth.user", target_id=user.pk,
           target_repr=user.get_username(), changes={"provider": sociallogin.account.provider})
