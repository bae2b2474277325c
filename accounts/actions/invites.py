"""Inviting a person to an account: the action every admin surface calls to add a member."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest

from .. import invitations
from ..models import Account, Invitation, UserProfile


def do_invite_member(request: HttpRequest, account: Account, email: str, role: str, *,
                     acting_user: Any | None = None) -> Invitation:
    """Invite ``email`` to ``account`` with ``role`` and mail the link, in one transaction (the
    invitation's audit event with it). The acting user's membership of the account, if any, is
    recorded as the inviter. Raises ``invitations.InvitationRefused`` or ``SendLimited``."""
    inviter = None
    if acting_user is not None and getattr(acting_user, "pk", None) is not None:
        inviter = UserProfile.objects.filter(account=account, user_id=acting_user.pk).first()
    with transaction.atomic():
        return invitations.invite(request, account, email, role, inviter)
