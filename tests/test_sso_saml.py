"""SAML sign-in per account, with a real signed assertion: keys and certificate made in the
test, responses signed with python3-saml's signing, posted to the account's ACS on its host.
A valid response creates the member (source ``sso`` in the audit log); a tampered signature,
a wrong audience, an expired or replayed assertion, another account's IdP, an unsigned
response and an address outside the verified domains are all refused."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth import get_user_model

from accounts.models import UserProfile
from audit.models import AuditEvent
from tests.conftest import PASSWORD, host_client
from tests.support.sso_support import (
    authn_request_id,
    make_key_pair,
    saml_provider,
    saml_response,
    verify_email_domain,
)

pytestmark = pytest.mark.django_db
ENTITY = "https://idp.example.test/"


@pytest.fixture(scope="module")
def idp_keys():  # type: ignore[no-untyped-def]
    return make_key_pair()


@pytest.fixture
def saml_a(tenant_a, idp_keys):  # type: ignore[no-untyped-def]
    verify_email_domain(tenant_a.account, "alpha.test")
    return saml_provider(tenant_a.account, idp_keys, entity_id=ENTITY, admin_group="idp-admins")


def urls(host: str, slug: str) -> dict[str, str]:
    base = f"http://{host}/accounts/saml/{slug}/"
    return {"login": f"/accounts/saml/{slug}/login/", "acs": f"/accounts/saml/{slug}/acs/",
            "acs_url": base + "acs/", "audience": base + "metadata/"}


def start(client: Any, slug: str) -> str:
    """The SP-initiated start: the AuthnRequest's ID (what the IdP answers InResponseTo)."""
    resp = client.post(f"/accounts/saml/{slug}/login/", {"process": "login"})
    assert resp.status_code == 302, resp.content[:500]
    assert resp["Location"].startswith("https://idp.example.test/sso?SAMLRequest=")
    return authn_request_id(resp["Location"])


def post_response(client: Any, slug: str, saml_b64: str) -> Any:
    resp = client.post(f"/accounts/saml/{slug}/acs/", {"SAMLResponse": saml_b64})
    assert resp.status_code == 302 and resp["Location"].endswith(f"/accounts/saml/{slug}/acs/finish/")
    return client.get(resp["Location"])


def respond(keys: Any, host: str, slug: str, request_id: str, email: str = "carol@alpha.test",
            **kw: Any) -> str:
    u = urls(host, slug)
    fields = {"issuer": ENTITY, "acs_url": u["acs_url"], "audience": u["audience"],
              "in_response_to": request_id, "email": email, **kw}
    return saml_response(keys, **fields)


def signed_in_user_id(client: Any) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value else None


def test_a_signed_response_creates_the_member_and_is_audited(tenant_a, saml_a, idp_keys):
    client = host_client(tenant_a.host)
    request_id = start(client, saml_a.slug)
    resp = post_response(client, saml_a.slug, respond(idp_keys, tenant_a.host, saml_a.slug, request_id))
    assert resp.status_code == 302, resp.content[:800]
    user = get_user_model().objects.get(email="carol@alpha.test")
    assert signed_in_user_id(client) == user.pk
    profile = UserProfile.objects.get(user=user, account=tenant_a.account)
    assert profile.role == UserProfile.ROLE_MEMBER and profile.created_user and profile.is_active
    assert SocialAccount.objects.get(user=user).provider == saml_a.slug
    events = AuditEvent.objects.filter(account=tenant_a.account, source="sso")
    assert events.filter(action="sso.signed_in", target_id=str(user.pk)).exists()
    assert events.filter(target_kind="accounts.userprofile", action="created").exists()
    # The session lasts the account's SSO max age.
    assert abs(client.session.get_expiry_age() - tenant_a.account.sso_session_max_age) < 5
    # The next sign-in of the same subject is the same user (no second member).
    client2 = host_client(tenant_a.host)
    resp = post_response(client2, saml_a.slug,
                         respond(idp_keys, tenant_a.host, saml_a.slug, start(client2, saml_a.slug)))
    assert resp.status_code == 302 and signed_in_user_id(client2) == user.pk
    assert UserProfile.objects.filter(user=user).count() == 1


def test_an_admin_group_makes_an_account_admin(tenant_a, saml_a, idp_keys):
    client = host_client(tenant_a.host)
    saml = respond(idp_keys, tenant_a.host, saml_a.slug, start(client, saml_a.slug),
                   email="dave@alpha.test", groups=("staff", "idp-admins"))
    assert post_response(client, saml_a.slug, saml).status_code == 302
    assert UserProfile.objects.get(user__email="dave@alpha.test").role == UserProfile.ROLE_ADMIN


def test_an_existing_user_elsewhere_is_linked_only_with_their_password(tenant_a, tenant_b, saml_a, idp_keys):
    """A member of B whose verified address is in A's domain: A's IdP does not link them; their
    own password does (then the next SSO sign-in is theirs, never a duplicate)."""
    from allauth.account.models import EmailAddress

    person = tenant_b.member.user
    EmailAddress.objects.create(user=person, email="erin@alpha.test", verified=True, primary=False)
    client = host_client(tenant_a.host)
    saml = respond(idp_keys, tenant_a.host, saml_a.slug, start(client, saml_a.slug), email="erin@alpha.test")
    resp = post_response(client, saml_a.slug, saml)
    assert resp.status_code == 302 and resp["Location"] == "/accounts/sso/link/"
    assert signed_in_user_id(client) is None
    assert not UserProfile.objects.filter(user=person, account=tenant_a.account).exists()
    assert client.post("/accounts/sso/link/", {"password": PASSWORD}).status_code == 302
    profile = UserProfile.objects.get(user=person, account=tenant_a.account)
    assert not profile.created_user  # the purge of A never takes B's person
    assert AuditEvent.objects.filter(account=tenant_a.account, source="sso", action="sso.identity_linked",
                                     target_id=str(person.pk)).exists()
    again = host_client(tenant_a.host)
    saml = respond(idp_keys, tenant_a.host, saml_a.slug, start(again, saml_a.slug), email="erin@alpha.test")
    assert post_response(again, saml_a.slug, saml).status_code == 302
    assert signed_in_user_id(again) == person.pk


def _refused(client: Any, resp: Any, *, nobody_created: bool = True) -> None:
    assert resp.status_code in (401, 403, 404), (resp.status_code, resp.content[:500])
    assert signed_in_user_id(client) is None
    if nobody_created:
        assert not get_user_model().objects.filter(email__endswith="@alpha.test").exclude(
            username__startswith="alpha-").exists()


def test_a_tampered_signature_is_refused(tenant_a, saml_a, idp_keys):
    client = host_client(tenant_a.host)
    saml = respond(idp_keys, tenant_a.host, saml_a.slug, start(client, saml_a.slug))
    xml = base64.b64decode(saml).decode().replace("carol@alpha.test", "mallory@alpha.test")
    _refused(client, post_response(client, saml_a.slug, base64.b64encode(xml.encode()).decode()))


def test_an_unsigned_response_is_refused(tenant_a, saml_a, idp_keys):
    client = host_client(tenant_a.host)
    saml = respond(idp_keys, tenant_a.host, saml_a.slug, start(client, saml_a.slug), sign=False)
    _refused(client, post_response(client, saml_a.slug, saml))


def test_a_wrong_audience_is_refused(tenant_a, saml_a, idp_keys):
    client = host_client(tenant_a.host)
    saml = respond(idp_keys, tenant_a.host, saml_a.slug, start(client, saml_a.slug),
                   audience="https://another-sp.example/metadata/")
    _refused(client, post_response(client, saml_a.slug, saml))


def test_an_expired_assertion_is_refused(tenant_a, saml_a, idp_keys):
    client = host_client(tenant_a.host)
    saml = respond(idp_keys, tenant_a.host, saml_a.slug, start(client, saml_a.slug),
                   issued_ago=dt.timedelta(minutes=20), valid_for=dt.timedelta(minutes=5))
    _refused(client, post_response(client, saml_a.slug, saml))


def test_a_replayed_assertion_is_refused(tenant_a, saml_a, idp_keys):
    client = host_client(tenant_a.host)
    saml = respond(idp_keys, tenant_a.host, saml_a.slug, start(client, saml_a.slug))
    assert post_response(client, saml_a.slug, saml).status_code == 302
    client.logout()
    _refused(client, post_response(client, saml_a.slug, saml), nobody_created=False)  # state used
    stranger = host_client(tenant_a.host)
    _refused(stranger, post_response(stranger, saml_a.slug, saml), nobody_created=False)
    # Even after starting a sign-in of its own: the old answer names another request.
    start(stranger, saml_a.slug)
    _refused(stranger, post_response(stranger, saml_a.slug, saml), nobody_created=False)


def test_an_idp_initiated_response_is_refused(tenant_a, saml_a, idp_keys):
    client = host_client(tenant_a.host)
    _refused(client, post_response(client, saml_a.slug,
                                   respond(idp_keys, tenant_a.host, saml_a.slug, "_unsolicited")))


def test_an_address_outside_the_verified_domains_is_refused(tenant_a, saml_a, idp_keys):
    client = host_client(tenant_a.host)
    saml = respond(idp_keys, tenant_a.host, saml_a.slug, start(client, saml_a.slug),
                   email="zed@elsewhere.test")
    resp = post_response(client, saml_a.slug, saml)
    assert resp.status_code == 403 and b"verified email domain" in resp.content
    assert signed_in_user_id(client) is None
    assert AuditEvent.objects.filter(account=tenant_a.account, source="sso", action="sso.refused").exists()
    assert not get_user_model().objects.filter(email="zed@elsewhere.test").exists()


def test_another_accounts_idp_is_refused(tenant_a, tenant_b, saml_a, idp_keys):
    """B's IdP (its own key) cannot answer for A; A's provider is unknown on B's host and B's
    on A's; the same IdP entity set up in B never signs A's person into B."""
    b_keys = make_key_pair("idp.bravo.test")
    saml_b = saml_provider(tenant_b.account, b_keys, entity_id="https://idp.bravo.test/")
    client = host_client(tenant_a.host)
    forged = respond(b_keys, tenant_a.host, saml_a.slug, start(client, saml_a.slug))
    _refused(client, post_response(client, saml_a.slug, forged))
    # Each account's provider is a 404 on the other's host, for every SAML endpoint.
    for host, slug in ((tenant_b.host, saml_a.slug), (tenant_a.host, saml_b.slug)):
        other = host_client(host)
        for path in ("login/", "metadata/", "acs/finish/"):
            assert other.get(f"/accounts/saml/{slug}/{path}").status_code == 404
        assert other.post(f"/accounts/saml/{slug}/login/", {"process": "login"}).status_code == 404
    # A signs Carol in; B then sets up the very same IdP entity (same key) but has not proven
    # alpha.test: the same subject on B's host is refused, and never becomes A's session there.
    first = host_client(tenant_a.host)
    post_response(first, saml_a.slug,
                  respond(idp_keys, tenant_a.host, saml_a.slug, start(first, saml_a.slug)))
    carol = get_user_model().objects.get(email="carol@alpha.test")
    same_b = saml_provider(tenant_b.account, idp_keys, entity_id=ENTITY, name="Same IdP")
    on_b = host_client(tenant_b.host)
    resp = post_response(on_b, same_b.slug,
                         respond(idp_keys, tenant_b.host, same_b.slug, start(on_b, same_b.slug)))
    assert resp.status_code == 403 and signed_in_user_id(on_b) is None
    assert not UserProfile.objects.filter(user=carol, account=tenant_b.account).exists()
    assert list(SocialAccount.objects.filter(user=carol).values_list("provider", flat=True)) == [saml_a.slug]


def test_the_metadata_names_the_acs_on_the_tenant_host(tenant_a, saml_a):
    resp = host_client(tenant_a.host).get(f"/accounts/saml/{saml_a.slug}/metadata/")
    assert resp.status_code == 200
    assert f"http://{tenant_a.host}/accounts/saml/{saml_a.slug}/acs/".encode() in resp.content


@pytest.mark.parametrize("name_id_format", ["urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
                                            "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"])
def test_a_response_with_the_name_id_only_signs_in(tenant_a, saml_a, idp_keys, name_id_format):
    """No AttributeStatement, the address in the NameID: Google Workspace's default."""
    client = host_client(tenant_a.host)
    request_id = start(client, saml_a.slug)
    xml = respond(idp_keys, tenant_a.host, saml_a.slug, request_id, attributes=False,
                  name_id_format=name_id_format)
    assert b"AttributeStatement" not in base64.b64decode(xml)
    resp = post_response(client, saml_a.slug, xml)
    assert resp.status_code == 302, resp.content[:800]
    user = get_user_model().objects.get(pk=signed_in_user_id(client))
    assert user.email == "carol@alpha.test"
    assert UserProfile.objects.filter(user=user, account=tenant_a.account, is_active=True).exists()
    assert SocialAccount.objects.get(user=user, provider=saml_a.slug).uid == "carol@alpha.test"


def test_a_name_id_only_response_outside_the_verified_domains_is_refused(tenant_a, saml_a, idp_keys):
    client = host_client(tenant_a.host)
    request_id = start(client, saml_a.slug)
    xml = respond(idp_keys, tenant_a.host, saml_a.slug, request_id, email="opaque-subject-42",
                  attributes=False)
    resp = post_response(client, saml_a.slug, xml)
    assert resp.status_code == 403 and b"not in a verified email domain" in resp.content
    assert signed_in_user_id(client) is None


def test_a_disabled_providers_sp_metadata_is_served_for_the_idp_setup(tenant_a, tenant_b, idp_keys):
    """The admin gives the IdP the SP metadata before the test sign-in; signing in stays closed."""
    disabled = saml_provider(tenant_a.account, idp_keys, entity_id=ENTITY, enabled=False)
    client = host_client(tenant_a.host)
    u = urls(tenant_a.host, disabled.slug)
    resp = client.get(f"/accounts/saml/{disabled.slug}/metadata/")
    assert resp.status_code == 200 and u["audience"] in resp.content.decode()
    assert u["acs_url"] in resp.content.decode()
    assert client.post(u["login"], {"process": "login"}).status_code == 404
    other = host_client(tenant_b.host)
    assert other.get(f"/accounts/saml/{disabled.slug}/metadata/").status_code == 404
