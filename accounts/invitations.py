"""Inviting people to an account: shared by the console and the API."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from allauth.core import ratelimit
from django.http import HttpRequest

from tenancy.hosts import tenant_url

from .actions.members import do_add_member
from .emails import send_mail
from .membership import members_with_address
from .models import Account, AlreadyInvited, Invitation, UserProfile
from .reset_keys import reset_keys_for


class InvitationRefused(Exception):
    """The invitation cannot be sent (the message says why)."""


class SendLimited(Exception):
    """Too many invitation mails from this admin or to this address (429)."""


def account_url(request: HttpRequest, account: Account) -> str:
    """The account's own host (never a workspace host), on the request's scheme and port."""
    return tenant_url(request, None if account.is_default_account else account.account_number)


def accept_url(request: HttpRequest, account: Account, raw: str) -> str:
    return f"{account_url(request, account)}invitations/{raw}/"


def is_member(account: Account, email: str) -> bool:
    """Whether the address already belongs to a member of the account, verified or not (within
    its own account the address is the account's: :func:`membership.members_with_address`)."""
    return bool(members_with_address(account, email))


def _check_send_limit(request: HttpRequest, email: str) -> None:
    if not ratelimit.consume(request, action="send_invitation", key=email, user=request.user):
        raise SendLimited(email)


def _send(request: HttpRequest, invitation: Invitation, raw: str) -> None:
    account = invitation.account
    send_mail("accounts/email/invitation", invitation.email, {
        "account": account, "invitation": invitation, "url": accept_url(request, account, raw),
        "inviter": getattr(invitation.invited_by, "user", None),
    }, request)


def invite(request: HttpRequest, account: Account, email: str, role: str,
           invited_by: UserProfile | None) -> Invitation:
    """Create (or renew an expired) invitation and mail it: the one way anybody becomes a
    member through the console or the API ("add member" included). Known and unknown
    addresses get the same invitation; the person accepts with their own credentials, or a
    new person chooses a password through the link (which proves the address).

    Raises InvitationRefused for a member or a pending invitation, SendLimited past the limit.
    """
    email = email.strip().lower()
    if is_member(account, email):
        raise InvitationRefused("This person is already a member of the account.")
    _check_send_limit(request, email)
    try:
        invitation, raw = Invitation.issue(account, email, role, invited_by)
    except AlreadyInvited:
        raise InvitationRefused("This address has a pending invitation already; resend it instead.") from None
    _send(request, invitation, raw)
    return invitation


def resend(request: HttpRequest, invitation: Invitation) -> None:
    """A new link (the old one stops working) and expiry for a pending or expired invitation."""
    if invitation.status not in (Invitation.PENDING, Invitation.EXPIRED):
        raise InvitationRefused(f"This invitation was {invitation.status}; send a new one.")
    _check_send_limit(request, invitation.email)
    raw = invitation.renew()
    _send(request, invitation, raw)


def revoke(invitation: Invitation) -> None:
    if invitation.status not in (Invitation.PENDING, Invitation.EXPIRED):
        raise InvitationRefused(f"This invitation was {invitation.status} already.")
    invitation.revoke()


def join(invitation: Invitation, user: Any, *, created_user: bool = False) -> bool:
    """Consume the invitation and make ``user`` a member with its role; False if it was used,
    revoked or expired meanwhile. ``created_user``: the user was made by this acceptance (a
    purge of the account may delete them; never a person who existed before)."""
    from django.db import transaction

    with transaction.atomic():
        if not invitation.mark_accepted(user):
            return False
        do_add_member(invitation.account, user, role=invitation.role, created_user=created_user)
    return True


def send_welcome(request: HttpRequest | None, profile: UserProfile, base_url: str = "") -> bool:
    """Mail a member added without a password a link (on the account's host) to choose one,
    so no admin flow leaves a member who can never sign in. False when they have no email.
    ``base_url`` (the account's home URL) stands in for the request outside one (a command)."""
    from allauth.account.utils import user_pk_to_url_str
    from django.urls import reverse

    user, account = profile.user, profile.account
    if not user.email:
        return False
    home = base_url or account_url(request, account)  # type: ignore[arg-type]
    key = reset_keys_for(urlsplit(home).hostname or "").make_token(user)  # works on that host only
    path = reverse("account_reset_password_from_key", kwargs={"uidb36": user_pk_to_url_str(user), "key": key})
    send_mail("accounts/email/welcome", user.email, {
        "account": account, "user": user, "url": home + path.lstrip("/"),
    }, request)
    return True
