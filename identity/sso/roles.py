"""Roles follow the identity provider's groups on every sign-in: with an admin group set on
the provider, a member in that group is an account admin and one who left it gets the
provider's default role (a member, unless the default is admin), at their next sign-in through
that provider. Without an admin group the console (or
SCIM) manages roles. The account's last active admin is never demoted this way (it keeps the
account administrable; the refusal is in the audit log)."""

from __future__ import annotations

from typing import Any

from accounts.actions.members import MemberChangeRefused, do_change_member_role
from accounts.models import UserProfile
from audit.recorder import record

from .caching import ProviderConfig


def wanted_role(config: ProviderConfig, groups: list[str]) -> str | None:
    """The role the groups give, or ``None`` when the provider does not manage roles."""
    if not config.admin_group:
        return None
    if config.admin_group in groups:
        return UserProfile.ROLE_ADMIN
    return config.default_role


def sync_role(profile: UserProfile, config: ProviderConfig, groups: list[str]) -> None:
    """Set the member's role from the provider's groups claim, through the one action every
    surface uses (its rules: the account keeps an active admin); audited."""
    role = wanted_role(config, groups)
    if role is None or role == profile.role or not profile.is_active:
        return
    before = profile.role
    try:
        do_change_member_role(profile, role)
    except MemberChangeRefused as refused:
        if refused.code != MemberChangeRefused.LAST_ADMIN:
            return  # the membership was removed meanwhile: nothing to keep
        record("sso.role_kept", account_id=profile.account_id, target_kind="accounts.userprofile",
               target_id=profile.pk, target_repr=str(profile.user),
               changes={"reason": refused.message, "provider": config.slug})
        return
    record("sso.role_changed", account_id=profile.account_id, target_kind="accounts.userprofile",
           target_id=profile.pk, target_repr=str(profile.user),
           changes={"role": [before, role], "provider": config.slug})


def after_sign_in(request: Any, sociallogin: Any, config: ProviderConfig, groups: list[str]) -> None:
    """For a sign-in of an existing user (a new one got its role when created)."""
    user = sociallogin.user
    account = getattr(request, "account", None)
    if account is None or user is None or user.pk is None:
        return
    profile = UserProfile.objects.filter(user=user, account=account).first()
    if profile is not None:
        sync_role(profile, config, groups)
