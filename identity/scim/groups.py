"""SCIM Groups are the account's roles: one fixed group per ``UserProfile`` role.

A provider links its own groups to these (by id ``admin`` or ``member``). Every member of the
account is in ``member``; ``admin`` holds the admins, and joining or leaving it sets the role.
They are not rows: every account has both, always.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import UserProfile

NAMES = {UserProfile.ROLE_ADMIN: "Account admins", UserProfile.ROLE_MEMBER: "Members"}


@dataclass(frozen=True)
class RoleGroup:
    """One role seen as a SCIM Group (``scim_id`` is the role)."""

    role: str

    @property
    def scim_id(self) -> str:
        return self.role

    @property
    def display_name(self) -> str:
        return NAMES[self.role]

    @classmethod
    def all(cls) -> list[RoleGroup]:
        return [cls(role) for role in NAMES]

    @classmethod
    def get(cls, scim_id: str) -> RoleGroup | None:
        return cls(scim_id) if scim_id in NAMES else None

    @classmethod
    def of(cls, role: str) -> list[RoleGroup]:
        """The groups a member with ``role`` is in: admins are members too."""
        if role == UserProfile.ROLE_ADMIN:
            return [cls(UserProfile.ROLE_ADMIN), cls(UserProfile.ROLE_MEMBER)]
        return [cls(UserProfile.ROLE_MEMBER)]
