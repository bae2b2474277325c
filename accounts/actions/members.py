"""Changing an account's memberships: add, change role, deactivate, reactivate, remove.

Modelled on Zulip's ``zerver/actions`` (``do_change_user_role(user_profile, value, *,
acting_user)``): every action is atomic, locks the membership rows it reads for its rule
(``select_for_update``, in primary-key order so two actions never deadlock), and is audited in
the same transaction (the audit app's model signals record each saved or deleted row, with the
actor of the current operation).

The rules, kept here only:

* the account keeps at least one active admin: no demotion, deactivation or removal takes away
  the last active admin of an account (an active membership with the admin role whose user is
  active);
* nobody changes their own membership through an admin surface (``acting_user``);
* removing a member ends the membership (the row is deleted): the rows they own in the account
  (workspaces, domains, every owned resource but API keys) go to another active admin first
  (the acting admin, else the longest-standing one); their API keys die with the membership;
  the account's contacts and the person's user stay.

Every refusal is a :class:`MemberChangeRefused`; each surface turns it into its own answer
(a console message, a 409 from the API, a SCIM error with ``scimType`` ``mutability``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from ..models import Account, ApiKey, MetaDataWithOwnershipModel, UserProfile

ADMIN = UserProfile.ROLE_ADMIN
ROLES = {value for value, _label in UserProfile.ROLE_CHOICES}


class MemberChangeRefused(Exception):
    """A membership change the rules refuse; ``code`` names the rule, the message says why."""

    LAST_ADMIN = "last_admin"
    OWN_MEMBERSHIP = "own_membership"
    NO_HEIR = "no_heir"
    BAD_ROLE = "bad_role"
    GONE = "gone"
    OWN_MEMBERSHIP_MESSAGE = "You cannot change or remove your own membership: ask another admin."

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Removal:
    """What removing a member did: who took over their rows, and how many moved."""

    username: str
    heir: UserProfile | None
    moved: int


def _lock(profile: UserProfile) -> tuple[UserProfile, list[UserProfile]]:
    """Lock ``profile`` and the account's active admins; return the fresh ``profile`` and the
    other active admins whose user is active (the ones the account keeps)."""
    rows = list(
        UserProfile.objects.select_for_update()
        .filter(account_id=profile.account_id)
        .filter(Q(pk=profile.pk) | Q(role=ADMIN, is_active=True))
        .order_by("pk")
    )
    locked = next((row for row in rows if row.pk == profile.pk), None)
    if locked is None:
        raise MemberChangeRefused(MemberChangeRefused.GONE, "The membership was removed meanwhile.")
    others = [row for row in rows if row.pk != profile.pk]
    live = set(get_user_model().objects.filter(pk__in=[r.user_id for r in others], is_active=True)
               .values_list("pk", flat=True))
    return locked, [row for row in others if row.user_id in live]


def _check_role(role: str | None) -> None:
    if role is not None and role not in ROLES:
        raise MemberChangeRefused(MemberChangeRefused.BAD_ROLE, f"{role!r} is not a role.")


def _other_admins(profile: UserProfile) -> list[UserProfile]:
    """The account's other active admins whose user is active, read without a lock."""
    return list(UserProfile.objects.filter(account_id=profile.account_id, role=ADMIN,
                                           is_active=True, user__is_active=True)
                .exclude(pk=profile.pk))


def _refuse_own(profile: UserProfile, acting_user: Any | None) -> None:
    if acting_user is not None and getattr(acting_user, "pk", None) == profile.user_id:
        raise MemberChangeRefused(MemberChangeRefused.OWN_MEMBERSHIP,
                                  MemberChangeRefused.OWN_MEMBERSHIP_MESSAGE)


def _keeps_an_admin(profile: UserProfile, other_admins: list[UserProfile], *,
                    active: bool, role: str) -> None:
    """Refuse a change that takes the account's last active admin away."""
    leaves = profile.is_active and profile.role == ADMIN and not (active and role == ADMIN)
    if leaves and not other_admins:
        raise MemberChangeRefused(MemberChangeRefused.LAST_ADMIN,
                                  "This is the account's last active admin: make another member "
                                  "an admin first.")


def check_change(profile: UserProfile, *, role: str | None = None, active: bool | None = None,
                 acting_user: Any | None = None) -> None:
    """Raise the refusal ``do_change_membership`` would raise, without changing or locking
    anything: for a form that explains before it submits (the action checks again, locked)."""
    _check_role(role)
    _refuse_own(profile, acting_user)
    stored = UserProfile.objects.get(pk=profile.pk)
    _keeps_an_admin(stored, _other_admins(stored),
                    active=stored.is_active if active is None else active,
                    role=stored.role if role is None else role)


def do_change_membership(profile: UserProfile, *, role: str | None = None,
                         active: bool | None = None, acting_user: Any | None = None) -> UserProfile:
    """Set the role and/or the active flag of ``profile`` (None keeps a value) and return the
    saved membership. A change to nothing saves nothing and records no event."""
    _check_role(role)
    with transaction.atomic():
        _refuse_own(profile, acting_user)
        locked, other_admins = _lock(profile)
        role = locked.role if role is None else role
        active = locked.is_active if active is None else active
        if (role, active) != (locked.role, locked.is_active):
            _keeps_an_admin(locked, other_admins, active=active, role=role)
            locked.role, locked.is_active = role, active
            locked.save(update_fields=["role", "is_active", "updated_at"])
    return locked


def do_change_member_role(profile: UserProfile, role: str, *,
                          acting_user: Any | None = None) -> UserProfile:
    """Give ``profile`` the role ``role`` (``admin`` or ``member``)."""
    return do_change_membership(profile, role=role, acting_user=acting_user)


def do_deactivate_member(profile: UserProfile, *, acting_user: Any | None = None) -> UserProfile:
    """Keep the person out of the account; their membership, rows and keys stay."""
    return do_change_membership(profile, active=False, acting_user=acting_user)


def do_reactivate_member(profile: UserProfile, *, acting_user: Any | None = None) -> UserProfile:
    """Let a deactivated member in again, with the role they had."""
    return do_change_membership(profile, active=True, acting_user=acting_user)


def do_add_member(account: Account, user: Any, *, role: str, created_user: bool = False,
                  active: bool = True) -> tuple[UserProfile, bool]:
    """``user``'s membership of ``account``, made with ``role`` when there is none (an existing
    membership is returned as it is); True when it was made. Consent is the caller's rule: an
    accepted invitation, an account's own SSO or SCIM provisioning."""
    _check_role(role)
    with transaction.atomic():
        return UserProfile.objects.get_or_create(
            user=user, account=account,
            defaults={"role": role, "created_user": created_user, "is_active": active})


def heir_for(profile: UserProfile, acting_user: Any | None = None) -> UserProfile | None:
    """Who takes over ``profile``'s rows when it is removed: the acting user when they are an
    active admin of the account, else the longest-standing other active admin; None if nobody."""
    admins = (UserProfile.objects.filter(account_id=profile.account_id, role=ADMIN, is_active=True,
                                         user__is_active=True)
              .exclude(pk=profile.pk).select_related("user"))
    acting_pk = getattr(acting_user, "pk", None)
    if acting_pk is not None:
        acting = admins.filter(user_id=acting_pk).first()
        if acting is not None:
            return acting
    return admins.order_by("pk").first()


def owned_models() -> list[type[MetaDataWithOwnershipModel]]:
    """The owned resources a removed member hands over: every ownership model but API keys
    (a key carries its owner's permissions and dies with the membership)."""
    return [model for model in apps.get_models()
            if issubclass(model, MetaDataWithOwnershipModel) and model is not ApiKey]


def _hand_over(profile: UserProfile, heir: UserProfile) -> int:
    moved = 0
    for model in owned_models():
        rows = model.objects.select_for_update().filter(account_id=profile.account_id,
                                                        user_profile=profile).order_by("pk")
        for row in rows:
            row.user_profile = heir
            row.save()  # one audit event per row; the signals invalidate cached copies
            moved += 1
    return moved


def _owns_rows(profile: UserProfile) -> bool:
    return any(model.objects.filter(account_id=profile.account_id, user_profile=profile).exists()
               for model in owned_models())


def _heir_or_refusal(profile: UserProfile, other_admins: list[UserProfile],
                     acting_user: Any | None) -> UserProfile | None:
    """The heir of a removal the rules allow (None: nothing to hand over, nobody to take it)."""
    _keeps_an_admin(profile, other_admins, active=False, role=profile.role)
    heir = heir_for(profile, acting_user)
    if heir is None and _owns_rows(profile):
        raise MemberChangeRefused(MemberChangeRefused.NO_HEIR,
                                  "This member owns the account's resources and no other "
                                  "active admin can take them over.")
    return heir


def check_removal(profile: UserProfile, *, acting_user: Any | None = None) -> None:
    """Raise the refusal ``do_remove_member`` would raise, without changing or locking
    anything (for a page that offers the removal only when it is allowed)."""
    _refuse_own(profile, acting_user)
    stored = UserProfile.objects.get(pk=profile.pk)
    _heir_or_refusal(stored, _other_admins(stored), acting_user)


def do_remove_member(profile: UserProfile, *, acting_user: Any | None = None) -> Removal:
    """End ``profile``'s membership: hand their owned rows to another active admin, then delete
    the membership (their API keys and SCIM link go with it; their user and the account's
    contacts stay). Refused for the account's last active admin, and when the member owns rows
    and no other active admin can take them."""
    with transaction.atomic():
        _refuse_own(profile, acting_user)
        locked, other_admins = _lock(profile)
        heir = _heir_or_refusal(locked, other_admins, acting_user)
        moved = _hand_over(locked, heir) if heir is not None else 0
        username = locked.user.get_username()
        locked.delete()
    return Removal(username=username, heir=heir, moved=moved)
