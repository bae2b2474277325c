"""Whose word about a person counts, for what, and where: the one place the identity layer
decides it (docs/ARCHITECTURE.md, "Identity and trust").

* A person's own proof (their password, a link or code mailed to them, a hand-off issued from
  a session they proved so) is global: it may link identities and memberships anywhere.
* An account's identity provider, its SCIM token and its verified email domains vouch inside
  that account only. They create, update and sign in that account's members; they never link,
  sign in as, or add a membership to a user who exists outside the account without that
  person's own proof, and a session an account's IdP made counts for that account only.
* An account that requires single sign-on serves its members only sessions made by its own
  identity providers within its ``sso_session_max_age`` (account admins and platform
  superusers keep password and two-factor as break-glass).

Sessions are read from allauth's authentication records (the methods that signed the session
in, with their time); everything else comes from the cached account and provider data, so an
account that does not require SSO pays no query here.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any, NamedTuple
from urllib.parse import urlencode

from django.http import HttpRequest

from accounts.allauth_compat import authentication_records
from accounts.caching import active_memberships
from accounts.membership import AmbiguousEmail, members_with_address, user_for_email
from accounts.models import Account
from identity.scim.models import ScimUser
from identity.sso.caching import account_providers
from tenancy.hosts import tenant_url


# --- the trust table ------------------------------------------------------------------------
class Scope(StrEnum):
    GLOBAL = "every account"
    ACCOUNT = "its own account only"


class Vouch(NamedTuple):
    """One row of the trust table: who vouches, for what, where."""

    who: str
    what: str
    scope: Scope


TRUST_TABLE: tuple[Vouch, ...] = (
    Vouch("the person: password (and second factor)", "sign in, link an IdP identity, accept "
          "an invitation, be handed over into their accounts", Scope.GLOBAL),
    Vouch("the person: a link or code mailed to the address", "prove the address (verified "
          "EmailAddress), accept an invitation, reset the password", Scope.GLOBAL),
    Vouch("an account's identity provider (OIDC email_verified, SAML NameID)", "create the "
          "account's members, sign them in there, match its own members", Scope.ACCOUNT),
    Vouch("an account's SCIM token", "create, update, deactivate the account's members",
          Scope.ACCOUNT),
    Vouch("an account's verified email domains", "which addresses its IdP may assert; "
          "the account's members' addresses for its own invitations and sign-ins", Scope.ACCOUNT),
)

#: allauth authentication methods that are the person's own proof (a hand-off is issued only
#: from a session that has one: :func:`may_hand_off`).
PERSONAL_METHODS = frozenset({"password", "code", "password_reset", "handoff"})
SSO_METHOD = "socialaccount"


# --- addresses an identity provider asserts --------------------------------------------------
class SsoMatch(NamedTuple):
    """What an SSO sign-in whose subject is not linked yet becomes."""

    outcome: str  # MEMBER, NEW or CONFIRM
    user: Any | None


MEMBER, NEW, CONFIRM = "member", "new", "confirm"


def idp_confirmed_address(kind: str, sociallogin: Any, email: str) -> bool:
    """Whether the IdP itself says ``email`` is confirmed: OIDC's ``email_verified`` must be
    true (false or absent: never used to link or match); a SAML NameID or address is the
    account's identifier for the person, vouched for by the account's verified domain."""
    if kind != "oidc":
        return True
    return any(str(a.email).strip().lower() == email and bool(a.verified)
               for a in sociallogin.email_addresses)


def match_sso_user(account: Account, email: str, identifiers: tuple[str, ...] = ()) -> SsoMatch:
    """The user a first SSO sign-in of ``account``'s IdP with ``email`` (in a verified domain)
    is: a member of this account with that address or SCIM identifier (linked at once); else
    a user elsewhere who owns the address as a verified one (linked only after that person's
    own proof: CONFIRM); else a new user of this account (an unverified holder of the address
    elsewhere is never touched). Raises AmbiguousEmail when several members match."""
    members = members_with_address(account, email)
    if not members:
        members = _scim_members(account, (email, *identifiers))
    if len(members) > 1:
        raise AmbiguousEmail(email)
    if members:
        return SsoMatch(MEMBER, members[0])
    owner = user_for_email(email)
    if owner is not None:
        return SsoMatch(CONFIRM, owner)
    return SsoMatch(NEW, None)


def _scim_members(account: Account, names: tuple[str, ...]) -> list[Any]:
    """Members this account's SCIM provisioned under one of ``names`` (userName or externalId)."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    names = tuple(n.strip() for n in names if n and n.strip())
    if not names:
        return []
    match = Q()
    for name in names:
        match |= Q(user_name__iexact=name) | Q(external_id=name)
    profiles = ScimUser.objects.filter(account=account).filter(match).values("user_profile__user_id")
    return list(get_user_model().objects.filter(pk__in=profiles).order_by("pk")[:2])


# --- an address's memberships (find my accounts) ---------------------------------------------
def accounts_of_address(email: str) -> list[Account]:
    """The active accounts where ``email`` names an active member, each by a word that counts
    there: the person's own proof (a verified address) names every account they belong to; an
    account's own word names that account only: its SCIM's ``userName``, the address of a user
    its SCIM made, or an address of its member in one of its verified email domains (what its
    identity provider asserted, say). An unverified address nobody vouched for (a sign-up never
    confirmed, an address an operator typed) names nothing. For a mail to the address only."""
    from allauth.account.models import EmailAddress
    from django.db.models import Exists, OuterRef, Q

    from accounts.models import UserProfile
    from identity.emaildomains.lookup import domain_of
    from identity.emaildomains.models import EmailDomain
    from identity.scim.models import ScimUser

    email = email.strip()
    if "@" not in email:
        return []
    addresses = EmailAddress.objects.filter(email__iexact=email)
    uses = Q(user__email__iexact=email) | Q(user_id__in=addresses.values("user_id"))
    proved = Q(user_id__in=addresses.filter(verified=True).values("user_id"))
    in_domain = Exists(EmailDomain.objects.filter(account_id=OuterRef("account_id"), domain=domain_of(email),
                                                  verified_at__isnull=False))
    scim = ScimUser.objects.filter(user_profile_id=OuterRef("pk"), account_id=OuterRef("account_id"))
    by_scim = Exists(scim.filter(user_name__iexact=email)) | (
        Q(created_user=True, user__email__iexact=email) & Exists(scim))
    profiles = (UserProfile.objects.filter(is_active=True, user__is_active=True, account__is_active=True)
                .filter(proved | (uses & in_domain) | by_scim)
                .select_related("account").order_by("account__company_name", "account__account_number"))
    return list({p.account_id: p.account for p in profiles}.values())


# --- sessions -------------------------------------------------------------------------------
def _records(request: HttpRequest) -> list[dict[str, Any]]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return [r for r in authentication_records(request, user) if isinstance(r, dict)]


def signed_in_by_idp_only(request: HttpRequest) -> bool:
    """Whether the session's person was vouched for by an account's IdP and by nothing of
    their own: such a session counts for that account only."""
    methods = {r.get("method") for r in _records(request)}
    return SSO_METHOD in methods and not methods & PERSONAL_METHODS


def sso_required(account: Account | None) -> bool:
    """Whether ``account`` requires SSO: it says so and has an enabled provider (cached)."""
    return bool(account is not None and account.require_sso and account_providers(account.pk))


def sso_enforced(account: Account | None, *, is_admin: bool, is_superuser: bool) -> bool:
    """Whether a person enters ``account`` only through its SSO: every member of an account
    that requires it, except its admins and platform superusers (password and second factor
    as break-glass)."""
    return not is_admin and not is_superuser and sso_required(account)


def has_sso_session(request: HttpRequest, account: Account) -> bool:
    """Whether the session was signed in through one of ``account``'s identity providers
    within its ``sso_session_max_age``."""
    slugs = {p.slug for p in account_providers(account.pk)}
    max_age = int(account.sso_session_max_age or 0)
    now = time.time()
    for record in _records(request):
        if record.get("method") != SSO_METHOD or record.get("provider") not in slugs:
            continue
        try:
            at = float(record.get("at", 0))
        except (TypeError, ValueError):
            continue
        if not max_age or 0 <= now - at <= max_age:
            return True
    return False


def session_admitted(request: HttpRequest, account: Account, user: Any, *, is_admin: bool) -> bool:
    """The required-SSO rule for a signed-in member's session on ``account``'s hosts."""
    if not sso_enforced(account, is_admin=is_admin,
                        is_superuser=bool(getattr(user, "is_superuser", False))):
        return True
    return has_sso_session(request, account)


def may_hand_off(request: HttpRequest, user: Any, account: Account, *, is_admin: bool) -> bool:
    """Whether this session may hand ``user`` over into ``account`` signed in: only a session
    with the person's own proof, and never into an account whose SSO the person must use
    (both then ask for that account's own sign-in: :func:`sign_in_url`)."""
    if signed_in_by_idp_only(request):
        return False
    return not sso_enforced(account, is_admin=is_admin,
                            is_superuser=bool(getattr(user, "is_superuser", False)))


def sign_in_url(request: HttpRequest, account: Account, next_path: str = "/") -> str:
    """``account``'s own sign-in page (its SSO buttons, or password and second factor)."""
    query = "" if next_path == "/" else "?" + urlencode({"next": next_path})
    return f"{tenant_url(request, account.account_number)}login/{query}"


#: The person's own sign-in details (global: every account they belong to relies on them).
SIGN_IN_DETAILS_PATHS = ("/accounts/email/", "/accounts/password/change/", "/accounts/password/set/",
                         "/accounts/2fa/")
TWO_FACTOR_PATH = "/accounts/2fa/"


def may_change_sign_in_details(request: HttpRequest, user: Any, account: Account | None) -> bool:
    """Whether this session may change the person's addresses, password or two-factor on this
    page: not a session an account's IdP alone made for a person who belongs to another account
    too (a new address verified there would reset their password elsewhere). Setting up a first
    second factor stays open to it (an account that requires two-factor asks for that)."""
    if not signed_in_by_idp_only(request):
        return True
    here = getattr(account, "pk", None)
    if all(m.account_id == here for m in active_memberships(user)):
        return True
    if request.path_info.startswith(TWO_FACTOR_PATH):
        from allauth.mfa.models import Authenticator

        return not Authenticator.objects.filter(user=user).exists()
    return False
