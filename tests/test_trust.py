"""Trust scoped to the account that vouches (identity/trust.py, docs/ARCHITECTURE.md "Identity
and trust"): an account's IdP never takes over a user who exists outside the account (OIDC
addresses its IdP does not confirm are never used; a user elsewhere links only with their own
password and code), its addresses are never verified globally, and a session its IdP made
counts for that account only. Tables: the SSO sign-in outcome per (address, provider kind),
and the hand-off decision per (session proof, target)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pyotp
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model

from accounts.membership import user_for_email
from accounts.models import HandoffToken, Invitation, UserProfile
from accounts.provisioning import add_member
from audit.models import AuditEvent
from identity import trust
from tests.conftest import PASSWORD, host_client
from tests.support.sso_support import make_key_pair, saml_provider, verify_email_domain
from tests.support.trust_support import SAML_ENTITY, FakeOidc, oidc_provider, saml_sign_in, signed_in_as

pytestmark = pytest.mark.django_db
BARE = "localhost"
DOMAIN = "acme.example"


@pytest.fixture(scope="module")
def keys():  # type: ignore[no-untyped-def]
    return make_key_pair("saml.trust.test")


@pytest.fixture
def idp(monkeypatch):  # type: ignore[no-untyped-def]
    return FakeOidc(monkeypatch)


@pytest.fixture
def a_with_idps(tenant_a, keys):  # type: ignore[no-untyped-def]
    """Account A has verified acme.example and has an OIDC and a SAML provider."""
    verify_email_domain(tenant_a.account, DOMAIN)
    saml = saml_provider(tenant_a.account, keys, entity_id=SAML_ENTITY)
    return tenant_a, oidc_provider(tenant_a.account), saml


@pytest.fixture
def zed(make_tenant):  # type: ignore[no-untyped-def]
    """Another person's own account Z, whose admin proved zed@acme.example (a mailed link)."""
    z = make_tenant("zulu")
    EmailAddress.objects.create(user=z.admin.user, email=f"zed@{DOMAIN}", verified=True, primary=False)
    return z


def sso(kind, client, idp, a, oidc, saml, keys, email, **claims):  # type: ignore[no-untyped-def]
    """One SSO sign-in on A's host through its OIDC or SAML provider."""
    if kind == "oidc":
        return idp.sign_in(client, oidc.slug, sub=claims.pop("sub", f"sub-{email}"), email=email, **claims)
    return saml_sign_in(client, a.host, saml, keys, email)


# --- 1. no takeover through an account's IdP: the sign-in outcome table ---------------------
OUTCOMES = [
    # (provider kind, IdP's email_verified claim, whose address it is) -> outcome
    ("oidc", True, "user elsewhere", "confirm"),
    ("oidc", False, "user elsewhere", "refused"),
    ("oidc", None, "user elsewhere", "refused"),
    ("saml", None, "user elsewhere", "confirm"),
    ("oidc", True, "member here", "member"),
    ("oidc", False, "member here", "refused"),
    ("saml", None, "member here", "member"),
    ("oidc", True, "nobody", "new"),
    ("oidc", None, "nobody", "refused"),
    ("saml", None, "nobody", "new"),
    ("oidc", True, "unverified elsewhere", "new"),
    ("saml", None, "unverified elsewhere", "new"),
]


@pytest.mark.parametrize(("kind", "verified", "whose", "outcome"), OUTCOMES)
def test_an_sso_sign_in_becomes_what_the_trust_table_says(a_with_idps, zed, idp, keys, kind, verified,
                                                          whose, outcome):
    a, oidc, saml = a_with_idps
    email = {"user elsewhere": f"zed@{DOMAIN}", "member here": f"mia@{DOMAIN}",
             "nobody": f"nina@{DOMAIN}", "unverified elsewhere": f"una@{DOMAIN}"}[whose]
    if whose == "member here":  # a member of A whose address nobody verified (SCIM or an admin made it)
        add_member(a.account, "mia", email=email, password=PASSWORD)
    if whose == "unverified elsewhere":  # someone signed up with it and never confirmed it
        squatter, _ = add_member(zed.account, "squatter", email=email, password=PASSWORD)
    claims = {} if verified is None else {"email_verified": verified}
    client = host_client(a.host)
    resp = sso(kind, client, idp, a, oidc, saml, keys, email, **claims)
    users = get_user_model().objects
    if outcome == "refused":
        assert resp.status_code == 403 and signed_in_as(client) is None
        assert b"does not confirm" in resp.content
        assert not SocialAccount.objects.exists()
    elif outcome == "confirm":
        assert resp.status_code == 302 and resp["Location"] == "/accounts/sso/link/"
        assert signed_in_as(client) is None
        assert not SocialAccount.objects.exists()
        assert not UserProfile.objects.filter(user=zed.admin.user, account=a.account).exists()
    elif outcome == "member":
        mia = users.get(username="mia")
        assert resp.status_code == 302 and signed_in_as(client) == mia.pk
        assert SocialAccount.objects.get().user == mia
    else:
        new = users.get(pk=signed_in_as(client))
        assert new.email == email and new.pk not in (zed.admin.user.pk,)
        assert UserProfile.objects.get(user=new, account=a.account).created_user
        # verified for A's purposes only: never a globally verified address
        assert not EmailAddress.objects.filter(email__iexact=email, verified=True).exists()
        assert user_for_email(email) is None
        if whose == "unverified elsewhere":
            assert new.pk != squatter.user.pk
            assert not UserProfile.objects.filter(user=squatter.user, account=a.account).exists()
    # Z's admin is never A's member, never signed in, never linked without their password
    assert not UserProfile.objects.filter(user=zed.admin.user, account=a.account).exists()
    assert not SocialAccount.objects.filter(user=zed.admin.user).exists()


def test_the_takeover_repro_ends_at_the_password_of_the_person(a_with_idps, zed, idp, keys):
    """A's IdP asserts Z's admin's address: no link, no membership, no way into Z; the link
    needs zed's own password and code, and even then the session A's IdP makes counts for A
    only (the switcher sends zed to Z's own sign-in, never a hand-off)."""
    a, oidc, saml = a_with_idps
    secret = generate_totp_secret()
    TOTP.activate(zed.admin.user, secret)
    client = host_client(a.host)
    resp = sso("oidc", client, idp, a, oidc, saml, keys, f"zed@{DOMAIN}", email_verified=True, sub="z-1")
    assert resp["Location"] == "/accounts/sso/link/"
    page = client.get("/accounts/sso/link/")
    assert page.status_code == 200 and f"zed@{DOMAIN}" in page.content.decode()
    wrong = client.post("/accounts/sso/link/", {"password": "nope", "code": pyotp.TOTP(secret).now()})
    assert wrong.status_code == 200 and b"Wrong password or code" in wrong.content
    no_code = client.post("/accounts/sso/link/", {"password": PASSWORD})
    assert no_code.status_code == 200 and not SocialAccount.objects.exists()
    assert not UserProfile.objects.filter(user=zed.admin.user, account=a.account).exists()
    done = client.post("/accounts/sso/link/", {"password": PASSWORD, "code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and signed_in_as(client) is None
    assert SocialAccount.objects.get(provider=oidc.slug, uid="z-1").user == zed.admin.user
    assert UserProfile.objects.get(user=zed.admin.user, account=a.account).role == UserProfile.ROLE_MEMBER
    assert AuditEvent.objects.filter(account=a.account, action="sso.identity_linked",
                                     changes__proof="password").exists()
    # Now A's IdP signs zed in to A (zed's two-factor, used above, is not this part's subject);
    # that session is A's only.
    Authenticator.objects.filter(user=zed.admin.user).delete()
    again = host_client(a.host)
    resp = sso("oidc", again, idp, a, oidc, saml, keys, f"zed@{DOMAIN}", email_verified=True, sub="z-1")
    assert resp.status_code == 302 and signed_in_as(again) == zed.admin.user.pk
    moved = again.post("/accounts/switch/", {"account": zed.account.account_number})
    assert moved.status_code == 302
    assert moved["Location"] == f"http://{zed.host}/login/?next=%2Fconsole%2F"
    assert HandoffToken.objects.count() == 0


def test_a_pending_link_is_for_its_own_host_and_expires(a_with_idps, zed, idp, keys, tenant_b, monkeypatch):
    a, oidc, saml = a_with_idps
    client = host_client(a.host)
    sso("oidc", client, idp, a, oidc, saml, keys, f"zed@{DOMAIN}", email_verified=True)
    assert host_client(a.host).get("/accounts/sso/link/").status_code == 404  # another browser
    monkeypatch.setattr("identity.sso.linking.PENDING_SECONDS", -1)
    assert client.get("/accounts/sso/link/").status_code == 404


def test_an_address_from_a_sign_in_never_becomes_another_accounts_match(a_with_idps, tenant_b, idp, keys):
    """A's IdP makes carol; B, which also proved acme.example, gets its own carol from its IdP
    and its invitation does not find A's (the address is verified for A's purposes only)."""
    a, oidc, saml = a_with_idps
    first = host_client(a.host)
    sso("saml", first, idp, a, oidc, saml, keys, f"carol@{DOMAIN}")
    carol_a = signed_in_as(first)
    verify_email_domain(tenant_b.account, DOMAIN)
    b_oidc = oidc_provider(tenant_b.account, "Bravo IdP")
    on_b = host_client(tenant_b.host)
    idp.sign_in(on_b, b_oidc.slug, sub="carol-b", email=f"carol@{DOMAIN}", email_verified=True)
    assert signed_in_as(on_b) not in (None, carol_a)
    assert not UserProfile.objects.filter(user_id=carol_a, account=tenant_b.account).exists()


# --- a session counts for the account whose IdP made it: the hand-off table -----------------
HANDOFFS = [
    # (how the session on A was made, B requires SSO) -> a hand-off into B?
    ("password", False, True),
    ("password", True, False),
    ("sso", False, False),
    ("sso", True, False),
]


@pytest.mark.parametrize(("proof", "b_requires_sso", "handed_off"), HANDOFFS)
def test_the_switcher_hands_off_only_a_persons_own_proof(a_with_idps, tenant_b, idp, keys, proof,
                                                        b_requires_sso, handed_off):
    a, oidc, saml = a_with_idps
    mia, _ = add_member(a.account, "mia", email=f"mia@{DOMAIN}", password=PASSWORD)
    add_member(tenant_b.account, "mia")
    if b_requires_sso:
        saml_provider(tenant_b.account, make_key_pair(), name="Bravo IdP")
        tenant_b.account.require_sso = True
        tenant_b.account.save()
    client = host_client(a.host)
    if proof == "password":
        assert client.post("/login/", {"login": "mia", "password": PASSWORD}).status_code == 302
    else:
        sso("saml", client, idp, a, oidc, saml, keys, f"mia@{DOMAIN}")
    assert signed_in_as(client) == mia.user.pk
    moved = client.post("/accounts/switch/", {"account": tenant_b.account.account_number})
    assert moved.status_code == 302
    location = moved["Location"]
    assert urlsplit(location).hostname == tenant_b.host
    assert ("/accounts/handoff/" in location) is handed_off
    assert HandoffToken.objects.count() == int(handed_off)
    if not handed_off:
        assert urlsplit(location).path == "/login/"


def test_the_trust_table_is_written_down_with_every_voucher_scoped():
    scopes = {row.who.split(":")[0].split(" (")[0]: row.scope for row in trust.TRUST_TABLE}
    assert scopes == {
        "the person": trust.Scope.GLOBAL,
        "an account's identity provider": trust.Scope.ACCOUNT,
        "an account's SCIM token": trust.Scope.ACCOUNT,
        "an account's verified email domains": trust.Scope.ACCOUNT,
    }


# --- 5. provisioning and sign-in work together ----------------------------------------------
def test_a_scim_provisioned_member_signs_in_by_sso_the_first_time(a_with_idps, idp, keys):
    """SCIM creates frank (unverified address, unusable password); his first sign-in through
    A's IdP is frank, with no form (it used to end on a sign-up form, then "already exists")."""
    a, oidc, saml = a_with_idps
    token = _scim_token(a)
    made = host_client(a.host).post("/scim/v2/Users", data={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": f"frank@{DOMAIN}",
        "externalId": "okta-frank", "emails": [{"value": f"frank@{DOMAIN}", "primary": True}],
        "name": {"givenName": "Frank"}, "active": True},
        content_type="application/scim+json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert made.status_code == 201, made.content
    frank = UserProfile.objects.get(account=a.account, user__username=f"frank@{DOMAIN}").user
    for kind in ("oidc", "saml"):
        client = host_client(a.host)
        resp = sso(kind, client, idp, a, oidc, saml, keys, f"frank@{DOMAIN}", email_verified=True)
        assert resp.status_code == 302 and signed_in_as(client) == frank.pk, resp.content[:300]
    assert get_user_model().objects.filter(email__iexact=f"frank@{DOMAIN}").count() == 1


def _scim_token(tenant) -> str:  # type: ignore[no-untyped-def]
    from identity.scim.models import ScimToken

    _, raw = ScimToken.create(tenant.account, "okta", tenant.admin)
    return raw


def test_inviting_a_members_address_answers_already_a_member(a_with_idps, idp, keys):
    """An address a member has (unverified: SSO or SCIM made it) is "already a member" in the
    console, and an invitation issued before the member existed cannot make a second user."""
    a, oidc, saml = a_with_idps
    _, early = Invitation.issue(a.account, f"gina@{DOMAIN}", "member", a.admin)
    client = host_client(a.host)
    sso("saml", client, idp, a, oidc, saml, keys, f"gina@{DOMAIN}")
    gina = signed_in_as(client)
    console = host_client(a.host, a.admin.user)
    refused = console.post("/console/invitations/", {"email": f"GINA@{DOMAIN}", "role": "member"})
    assert refused.status_code == 200 and "already a member" in refused.content.decode()
    late = host_client(a.host).post(f"/invitations/{early}/", {
        "first_name": "Gina", "password1": "G1na-pass-phrase!", "password2": "G1na-pass-phrase!"})
    assert late.status_code == 409 and "Already a member" in late.content.decode()
    assert list(UserProfile.objects.filter(account=a.account, user__email__iexact=f"gina@{DOMAIN}")
                .values_list("user_id", flat=True)) == [gina]


SIGN_IN_DETAILS = [
    # (how the session on A was made, the person belongs to B too) -> may change sign-in details
    ("password", True, True),
    ("sso", False, True),
    ("sso", True, False),
]


@pytest.mark.parametrize(("proof", "also_in_b", "allowed"), SIGN_IN_DETAILS)
@pytest.mark.parametrize("path", ["/accounts/email/", "/accounts/password/change/", "/accounts/2fa/"])
def test_an_idp_session_does_not_change_a_shared_persons_sign_in_details(a_with_idps, tenant_b, idp, keys,
                                                                         proof, also_in_b, allowed, path):
    """A's IdP signs in A's member; if that person belongs to B too, the session cannot add an
    address (verified, it would reset their password on B), change the password or two-factor."""
    a, oidc, saml = a_with_idps
    add_member(a.account, "mia", email=f"mia@{DOMAIN}", password=PASSWORD)
    if also_in_b:
        add_member(tenant_b.account, "mia")
    client = host_client(a.host)
    if proof == "password":
        client.post("/login/", {"login": "mia", "password": PASSWORD})
    else:
        sso("saml", client, idp, a, oidc, saml, keys, f"mia@{DOMAIN}")
    if path == "/accounts/2fa/":  # a second factor to change (a first one may be set up)
        TOTP.activate(get_user_model().objects.get(username="mia"), generate_totp_secret())
    resp = client.get(path)
    assert resp.wsgi_request.user.get_username() == "mia"
    assert (resp.status_code != 403) is allowed, (resp.status_code, resp.content[:200])
    if not allowed:
        assert b"sign in with your password" in resp.content.lower()
        posted = client.post("/accounts/email/", {"action_add": "", "email": "evil@elsewhere.test"})
        assert posted.status_code == 403
        assert not EmailAddress.objects.filter(email="evil@elsewhere.test").exists()


def test_an_idp_session_may_set_up_a_first_second_factor(a_with_idps, tenant_b, idp, keys):
    """A requires two-factor: its SSO member who belongs to B too can still set it up."""
    a, oidc, saml = a_with_idps
    add_member(a.account, "mia", email=f"mia@{DOMAIN}", password=PASSWORD)
    add_member(tenant_b.account, "mia")
    client = host_client(a.host)
    sso("saml", client, idp, a, oidc, saml, keys, f"mia@{DOMAIN}")
    resp = client.get("/accounts/2fa/totp/activate/")
    assert resp.status_code == 200 and resp.wsgi_request.user.get_username() == "mia"
