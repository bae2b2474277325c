"""Hand a signed-in person over to one of their tenant hosts: a single-use token
(``HandoffToken``) bound to that host, valid ``HANDOFF_TTL`` <= 60 s, redeemed there. No
cookie is ever shared across hosts. Issued after a sign-up is verified, after a sign-in on the
bare domain (one account: straight there), and by the chooser and the account switcher (a POST
from the person's own session, to an account where they are an active member)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from accounts.models import Account, HandoffToken, UserProfile
from identity import trust
from tenancy.hosts import tenant_host, tenant_url
from tenancy.wall import crosses

SESSION_KEY = "signup_handoff_user"


def remember_signup(request: HttpRequest, user: Any) -> None:
    """Only the browser that signed up is handed over after verification."""
    request.session[SESSION_KEY] = user.pk


@crosses("the account a person signed up (their memberships, from the platform host)")
def signup_account(user: Any) -> Account | None:
    """The account the user signed up: their newest active admin membership."""
    profile = (UserProfile.objects.filter(user=user, role=UserProfile.ROLE_ADMIN, is_active=True,
                                          account__is_active=True, account__is_default_account=False)
               .select_related("account").order_by("-created_at", "-id").first())
    return profile.account if profile is not None else None


@crosses("a hand-off token is written in the target account (issued on another host)")
def handoff_url(request: HttpRequest, user: Any, account: Account, next_path: str = "/console/") -> str:
    """The one-use link that signs ``user`` in on ``account``'s number host, then opens
    ``next_path`` there. The caller has checked that the person may go there."""
    raw = HandoffToken.issue(user, account, tenant_host(account.account_number))
    query = "" if next_path == "/console/" else "?" + urlencode({"next": next_path})
    return f"{tenant_url(request, account.account_number)}accounts/handoff/{raw}/{query}"


def landing_path(is_admin: bool) -> str:
    """Where a hand-off opens: the console for the account's admins, the home page else."""
    return "/console/" if is_admin else "/"


def entry_url(request: HttpRequest, user: Any, account: Account, is_admin: bool) -> str:
    """Where the chooser, the switcher and a bare-domain sign-in send a person into one of
    their accounts: a hand-off when this session may hand over there
    (:func:`identity.trust.may_hand_off`), else that account's own sign-in page (its SSO,
    or password and second factor)."""
    next_path = landing_path(is_admin)
    if trust.may_hand_off(request, user, account, is_admin=is_admin):
        return handoff_url(request, user, account, next_path)
    return trust.sign_in_url(request, account, next_path)


def handoff_url_after_signup(request: HttpRequest, user: Any) -> str | None:
    """The tenant host URL the person goes to after verifying their sign-up address:
    a hand-off link when this browser signed up, else the tenant's sign-in page."""
    info = getattr(request, "host_info", None)
    if info is None or info.kind != "platform":
        return None
    account = signup_account(user)
    if account is None:
        return None
    if request.session.get(SESSION_KEY) != user.pk:
        return tenant_url(request, account.account_number) + "login/"
    del request.session[SESSION_KEY]
    return handoff_url(request, user, account)
