"""After a sign-up is verified on the bare domain, hand the person over to their new
tenant's host: a single-use token (``HandoffToken``) bound to that host, valid
``HANDOFF_TTL`` <= 60 s, redeemed there. No cookie is ever shared across hosts."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from accounts.models import Account, HandoffToken, UserProfile
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


@crosses("the hand-off of a new sign-up to their tenant's host (issued on the platform host)")
def handoff_url_after_signup(request: HttpRequest, user: Any) -> str | None:
    """The tenant host URL the person goes to after verifying their sign-up address:
    a hand-off link when this browser signed up, else the tenant's sign-in page."""
    info = getattr(request, "host_info", None)
    if info is None or info.kind != "platform":
        return None
    account = signup_account(user)
    if account is None:
        return None
    base = tenant_url(request, account.account_number)
    if request.session.get(SESSION_KEY) != user.pk:
        return base + "login/"
    del request.session[SESSION_KEY]
    raw = HandoffToken.issue(user, account, tenant_host(account.account_number))
    return f"{base}accounts/handoff/{raw}/"
