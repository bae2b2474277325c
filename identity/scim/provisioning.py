"""What a SCIM call does to the account's members: the one place SCIM changes memberships.

The identity provider vouches for the people it provisions, so a SCIM create makes a member at
once, with no invitation to accept. Consent (docs/ARCHITECTURE.md, "Membership needs consent")
still holds, because SCIM never reaches a person outside the account: a create links to an
existing *member of this account* (same username or email) or else creates a new user that
belongs to this account (``created_user``), with an unusable password and an unverified email.
It never adopts a user of the platform who is not a member here, never marks an address
verified (so an account cannot squat an address another person owns), and it changes a user's
name and email only for users it created that belong to no other account (one account's
provider never rewrites a person other accounts see). Every membership change is a member
action (``accounts.actions.members``): ``active: false`` deactivates, DELETE removes the member
(their resources go to another admin), joining or leaving the admins' group sets the role, and
the account's last active admin can be neither deactivated, demoted nor removed (400
``mutability``). Every member is in the members' group, so a provider that pushes a person in
both groups makes an admin whatever the order of its pushes; replacing the admins' group
demotes only the admins SCIM made (``admin_by_scim``), never one the account made itself.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django_scim import exceptions

from accounts.actions import members
from accounts.models import Account, UserProfile

from .models import ScimUser

USER_FIELDS = {"given_name": "first_name", "family_name": "last_name", "email": "email"}
SCIM_FIELDS = ("external_id", "display_name", "formatted_name")  # kept on the SCIM user as sent


def _free_username(user_name: str) -> str:
    """``user_name`` when it is a valid, unused username; else it with a random suffix, or a
    generated name for a value Django's usernames cannot hold."""
    users = get_user_model().objects
    base = user_name.strip()[:130]
    try:
        UnicodeUsernameValidator()(base)
    except ValidationError:
        base = "scim"
    candidate = base
    while users.filter(username__iexact=candidate).exists():
        candidate = f"{base}-{secrets.token_hex(3)}"
    return candidate


def _existing_member(account: Account, user_name: str, email: str) -> UserProfile | None:
    """A member of this account that no SCIM user manages yet, named by ``user_name`` or
    ``email``; 409 when several are."""
    match = Q(user__username__iexact=user_name)
    if email:
        match |= Q(user__email__iexact=email)
    linked = ScimUser.objects.filter(account=account).values("user_profile_id")
    found = list(UserProfile.objects.filter(account=account).filter(match)
                 .exclude(pk__in=linked).select_related("user")[:2])
    if len(found) > 1:
        raise exceptions.IntegrityError(
            "Several members match this userName or email.", scim_type="uniqueness")
    return found[0] if found else None


def _check_user_name(account: Account, user_name: str, exclude_pk: int | None = None) -> None:
    taken = ScimUser.objects.filter(account=account, user_name__iexact=user_name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise exceptions.IntegrityError("userName is already in use.", scim_type="uniqueness")


def _set_membership(profile: UserProfile, *, active: bool | None = None, role: str | None = None) -> None:
    """The member actions' change, a refusal answered as SCIM's 400 ``mutability``."""
    try:
        members.do_change_membership(profile, active=active, role=role)
    except members.MemberChangeRefused as exc:
        raise exceptions.BadRequestError(exc.message, scim_type="mutability") from None


def _owns_user(profile: UserProfile) -> bool:
    """Whether the account may rewrite the user's name and email: SCIM (or this membership)
    created them and they belong to no other account."""
    return profile.created_user and not UserProfile.objects.filter(
        user_id=profile.user_id).exclude(account_id=profile.account_id).exists()


def _update_user(profile: UserProfile, changes: dict[str, Any]) -> None:
    if not _owns_user(profile):
        return
    user = profile.user
    fields = [attr for key, attr in USER_FIELDS.items()
              if key in changes and getattr(user, attr) != (changes[key] or "")]
    for attr in fields:
        key = next(k for k, a in USER_FIELDS.items() if a == attr)
        setattr(user, attr, changes[key] or "")
    if fields:
        user.save(update_fields=fields)


def create_member(account: Account, changes: dict[str, Any]) -> ScimUser:
    """A new SCIM user: an existing member of the account linked, or a new member."""
    user_name = changes["user_name"]
    email = changes.get("email") or ""
    with transaction.atomic():
        _check_user_name(account, user_name)
        profile = _existing_member(account, user_name, email)
        if profile is None:
            user = get_user_model()(
                username=_free_username(user_name), email=email,
                first_name=changes.get("given_name") or "", last_name=changes.get("family_name") or "")
            user.set_unusable_password()
            user.save()
            profile, _made = members.do_add_member(
                account, user, role=UserProfile.ROLE_MEMBER, created_user=True,
                active=changes.get("active", True) is not False)
        else:
            _set_membership(profile, active=changes.get("active", True) is not False)
        return ScimUser.objects.create(user_profile=profile, user_name=user_name,
                                       **{f: changes.get(f) or "" for f in SCIM_FIELDS})


def update_member(scim_user: ScimUser, changes: dict[str, Any]) -> None:
    """Apply ``changes`` (only the keys given: a PUT gives all, a PATCH some)."""
    with transaction.atomic():
        profile = scim_user.user_profile
        if "user_name" in changes and changes["user_name"] != scim_user.user_name:
            _check_user_name(scim_user.account, changes["user_name"], exclude_pk=scim_user.pk)
            scim_user.user_name = changes["user_name"]
        for field in SCIM_FIELDS:
            if field in changes:
                setattr(scim_user, field, changes[field] or "")
        scim_user.save()
        if "active" in changes:
            _set_membership(profile, active=bool(changes["active"]))
        _update_user(profile, changes)


def remove_member(scim_user: ScimUser) -> None:
    """SCIM DELETE: the resource goes and the member is removed as every surface removes one
    (``do_remove_member``: their resources go to another admin); the last admin stays (400)."""
    with transaction.atomic():
        profile = scim_user.user_profile
        scim_user.delete()
        try:
            members.do_remove_member(profile)
        except members.MemberChangeRefused as exc:
            raise exceptions.BadRequestError(exc.message, scim_type="mutability") from None


def make_admins(scim_users: list[ScimUser]) -> None:
    """Add ``scim_users`` to the admins' group: each becomes an admin (a member action), and
    SCIM is recorded as what made them one."""
    with transaction.atomic():
        for scim_user in scim_users:
            _set_membership(scim_user.user_profile, role=UserProfile.ROLE_ADMIN)
            if not scim_user.admin_by_scim:
                scim_user.admin_by_scim = True
                scim_user.save(update_fields=["admin_by_scim", "updated_at"])


def remove_admins(scim_users: list[ScimUser]) -> None:
    """Take ``scim_users`` out of the admins' group: each admin becomes a member (the account
    keeps its last active admin: 400 ``mutability``)."""
    with transaction.atomic():
        for scim_user in scim_users:
            if scim_user.user_profile.role == UserProfile.ROLE_ADMIN:
                _set_membership(scim_user.user_profile, role=UserProfile.ROLE_MEMBER)
            if scim_user.admin_by_scim:
                scim_user.admin_by_scim = False
                scim_user.save(update_fields=["admin_by_scim", "updated_at"])
