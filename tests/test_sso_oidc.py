"""OpenID Connect sign-in by the book, against an OIDC provider on loopback made in the test
(tests.support.oidc_support.FakeIdp, the one origin the suite's egress allowance admits):

- the provider's discovery document and keys are fetched, checked and stored when the admin
  saves it (the form is the connection test) and never on the sign-in request; a new provider
  starts disabled; a broken or unreachable one shows members a clear page, never a 500;
- server-side request forgery through the issuer (loopback, private addresses, a host that
  never answers) is refused, and an anonymous sign-in start fetches nothing;
- the ID token: signature always verified (key rotation refetches once; forged key ids do
  not make the server fetch at will), iss/aud/azp/exp/iat, the nonce this browser sent;
- PKCE S256, configurable scopes, roles following the groups claim on every sign-in, the
  sign-in start rate limited per provider and client address."""

from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.utils import timezone

from accounts.models import UserProfile
from audit.models import AuditEvent
from identity.sso import metadata
from identity.sso.models import IdentityProvider
from identity.sso.tasks import refresh_provider_metadata
from tests.conftest import host_client
from tests.support.oidc_support import FakeIdp, SigningKey, fake_idp, hang, json_answer, loopback_server  # noqa: F401
from tests.support.sso_support import verify_email_domain

pytestmark = pytest.mark.django_db


@pytest.fixture
def idp(fake_idp):  # type: ignore[no-untyped-def]  # noqa: F811
    return fake_idp


def add_provider(tenant: Any, issuer: str, **extra: str) -> Any:
    admin = host_client(tenant.host, tenant.admin.user)
    return admin.post("/console/security/sso/add/oidc/", {
        "name": "Alpha IdP", "issuer": issuer, "client_id": "tenant-client", "client_secret": "secret-1",
        "scopes": "openid email profile groups", "default_role": "member", "groups_attribute": "groups",
        "admin_group": "alpha-admins", **extra})


@pytest.fixture
def provider(tenant_a, idp):  # type: ignore[no-untyped-def]
    verify_email_domain(tenant_a.account, "alpha.test")
    resp = add_provider(tenant_a, idp.issuer)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    p = IdentityProvider.objects.get(account=tenant_a.account)
    assert not p.enabled  # a new provider starts disabled
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    run_test_sign_in(admin, p, idp)
    assert admin.post(f"/console/security/sso/{p.pk}/enable/", {"enabled": "1"}).status_code == 302
    p.refresh_from_db()
    assert p.enabled
    return p


def run_test_sign_in(admin: Any, provider: IdentityProvider, idp: FakeIdp) -> Any:
    """The admin's test sign-in through the IdP, from the console and back to it."""
    resp = admin.post(f"/console/security/sso/{provider.pk}/test-sign-in/")
    assert resp.status_code == 302 and resp["Location"].startswith(idp.discovery["authorization_endpoint"])
    query = parse_qs(urlsplit(resp["Location"]).query)
    idp.nonce = query["nonce"][0]
    return finish(admin, provider, query["state"][0])


def start(client: Any, provider: IdentityProvider, idp: FakeIdp) -> str:
    """The sign-in start: a redirect to the IdP with PKCE S256, a nonce and the scopes."""
    resp = client.post(f"/accounts/oidc/{provider.slug}/login/", {"process": "login"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    location = resp["Location"]
    assert location.startswith(idp.discovery["authorization_endpoint"])
    query = parse_qs(urlsplit(location).query)
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert sorted(query["scope"][0].split()) == ["email", "groups", "openid", "profile"]
    idp.nonce = query["nonce"][0]
    assert len(idp.nonce) >= 32
    return str(query["state"][0])


def finish(client: Any, provider: IdentityProvider, state: str) -> Any:
    return client.get(f"/accounts/oidc/{provider.slug}/login/callback/", {"code": "code-1", "state": state})


def sign_in(client: Any, provider: IdentityProvider, idp: FakeIdp) -> Any:
    return finish(client, provider, start(client, provider, idp))


def signed_in(client: Any) -> bool:
    return bool(client.session.get("_auth_user_id"))


def test_a_sign_in_uses_the_stored_discovery_and_creates_the_member(tenant_a, idp, provider):
    assert provider.oidc_discovery["issuer"] == idp.issuer and provider.oidc_jwks["keys"]
    assert provider.metadata_checked_at is not None and provider.metadata_error == ""
    fetched_at_save = list(idp.server.hits)  # then the admin's test sign-in
    assert fetched_at_save == ["/o/.well-known/openid-configuration", "/o/jwks/", "/o/token/", "/o/userinfo/"]
    client = host_client(tenant_a.host)
    page = client.get("/login/")
    assert "Sign in with Alpha IdP" in page.content.decode()
    form_action = next(d for d in page["Content-Security-Policy"].split(";") if "form-action" in d)
    assert idp.server.origin in form_action  # the authorization endpoint's origin
    state = start(client, provider, idp)
    assert idp.server.hits == fetched_at_save  # neither the page nor the sign-in start fetched
    resp = finish(client, provider, state)
    assert resp.status_code == 302 and signed_in(client), resp.content.decode()[:2000]
    assert idp.server.hits[len(fetched_at_save):] == ["/o/token/", "/o/userinfo/"]
    token_request = idp.token_requests()[-1]
    assert token_request["code_verifier"][0]  # PKCE
    profile = UserProfile.objects.get(account=tenant_a.account, user__email="carol@alpha.test")
    assert profile.role == UserProfile.ROLE_MEMBER


class Listener:
    """A TCP listener on loopback that counts the connections it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.setblocking(False)
        self.port = self.sock.getsockname()[1]

    def connections(self) -> int:
        count = 0
        while True:
            try:
                conn, _ = self.sock.accept()
            except BlockingIOError:
                return count
            conn.close()
            count += 1


def test_ssrf_anonymous_sign_in_never_fetches_inside(tenant_a):
    """Providers whose issuer and endpoints point inside (loopback, a private address, the cloud
    metadata address): an anonymous sign-in start fetches nothing (the authorization endpoint
    is only where the browser is sent) and the callback's token request is refused before
    connecting. A provider without a stored discovery document answers a clear page."""
    listener = Listener()
    verify_email_domain(tenant_a.account, "alpha.test")
    inside = [f"http://127.0.0.1:{listener.port}/o", "http://10.0.0.7/o", "http://169.254.169.254/latest"]
    providers = []
    for issuer in inside:
        discovery = {"issuer": issuer, "authorization_endpoint": f"{issuer}/authorize",
                     "token_endpoint": f"{issuer}/token", "jwks_uri": f"{issuer}/jwks"}
        p = IdentityProvider(account=tenant_a.account, kind="oidc", name=issuer, issuer=issuer, client_id="c",
                             enabled=True, metadata_checked_at=timezone.now(), oidc_jwks={"keys": []},
                             oidc_discovery=discovery)
        p.set_client_secret("s")
        p.save()
        providers.append(p)
    for p in providers:
        client = host_client(tenant_a.host)
        started = time.monotonic()
        resp = client.post(f"/accounts/oidc/{p.slug}/login/", {"process": "login"})
        assert resp.status_code == 302
        assert resp["Location"].startswith(p.oidc_discovery["authorization_endpoint"])
        state = parse_qs(urlsplit(resp["Location"]).query)["state"][0]
        resp = client.get(f"/accounts/oidc/{p.slug}/login/callback/", {"code": "c", "state": state})
        assert resp.status_code == 401 and not signed_in(client)
        assert time.monotonic() - started < 3
    legacy = providers[0]
    legacy.oidc_discovery = {}
    legacy.save()
    resp = host_client(tenant_a.host).post(f"/accounts/oidc/{legacy.slug}/login/", {"process": "login"})
    assert resp.status_code == 503 and b"not ready" in resp.content
    assert listener.connections() == 0
    listener.sock.close()


def test_an_unchecked_provider_cannot_be_enabled(tenant_a):
    from django.db import IntegrityError, transaction

    p = IdentityProvider(account=tenant_a.account, kind="oidc", name="x", issuer="https://idp.test/o",
                         client_id="c", enabled=False)
    p.save()
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    resp = admin.post(f"/console/security/sso/{p.pk}/enable/", {"enabled": "1"}, follow=True)
    assert "Test its connection first" in resp.content.decode()
    p.refresh_from_db()
    assert not p.enabled
    p.enabled = True
    with pytest.raises(IntegrityError), transaction.atomic():  # the database keeps the rule too
        p.save()


def test_a_provider_is_enabled_only_after_a_test_sign_in_succeeded(tenant_a, idp):
    """The admin's test sign-in goes through the IdP for real (nonce, PKCE, signed ID token,
    the address rule) while the provider is disabled; it signs nobody in and links nobody,
    records its success, and only then may the provider be enabled. A disabled provider is not
    usable by anyone else, and a failed test leaves it untested."""
    from allauth.socialaccount.models import SocialAccount

    verify_email_domain(tenant_a.account, "alpha.test")
    assert add_provider(tenant_a, idp.issuer).status_code == 302
    p = IdentityProvider.objects.get(account=tenant_a.account)
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    resp = admin.post(f"/console/security/sso/{p.pk}/enable/", {"enabled": "1"}, follow=True)
    assert "Run a test sign-in through it first" in resp.content.decode()
    # Anyone else: the disabled provider does not exist for them.
    assert host_client(tenant_a.host).post(f"/accounts/oidc/{p.slug}/login/").status_code == 404
    member = host_client(tenant_a.host, tenant_a.member.user)
    assert member.post(f"/console/security/sso/{p.pk}/test-sign-in/").status_code in (302, 403)
    assert member.post(f"/accounts/oidc/{p.slug}/login/").status_code == 404
    # A test whose ID token fails a check: back in the console with the reason, still untested.
    idp.claims = {"nonce": "another-sign-in"}
    resp = run_test_sign_in(admin, p, idp)
    assert resp.status_code == 302 and resp["Location"] == "/console/security/sso/"
    page = admin.get("/console/security/sso/").content.decode()
    assert "test sign-in failed" in page and "nonce" in page
    p.refresh_from_db()
    assert p.test_signed_in_at is None and not p.enabled
    # An address outside the account's verified domains fails the test as it would a sign-in.
    idp.claims, idp.email = {}, "carol@elsewhere.test"
    run_test_sign_in(admin, p, idp)
    assert "not in a verified email domain" in admin.get("/console/security/sso/").content.decode()
    p.refresh_from_db()
    assert p.test_signed_in_at is None
    # The real thing: recorded, the admin is still themselves, carol exists nowhere.
    idp.email = "carol@alpha.test"
    resp = run_test_sign_in(admin, p, idp)
    assert resp.status_code == 302 and resp["Location"] == "/console/security/sso/"
    page = admin.get("/console/security/sso/").content.decode()
    assert "test sign-in succeeded as carol@alpha.test" in page and "Test sign-in succeeded" in page
    assert admin.session["_auth_user_id"] == str(tenant_a.admin.user.pk)
    assert not UserProfile.objects.filter(user__email="carol@alpha.test").exists()
    assert not SocialAccount.objects.filter(provider=p.slug).exists()
    p.refresh_from_db()
    assert p.test_signed_in_at is not None and not p.enabled
    assert AuditEvent.objects.filter(account=tenant_a.account, action="sso.provider_tested",
                                     target_id=str(p.pk)).exists()
    # The mark is spent: the callback cannot be replayed as a test.
    assert "sso_test_sign_in" not in admin.session
    assert admin.post(f"/console/security/sso/{p.pk}/enable/", {"enabled": "1"}).status_code == 302
    p.refresh_from_db()
    assert p.enabled


@pytest.mark.parametrize("issuer, message", [
    ("http://127.0.0.1:{port}/o", "must use https"),
    ("https://127.0.0.1:{port}/o", "not on the public internet"),
    ("https://10.0.0.7/o", "not on the public internet"),
    ("https://169.254.169.254/latest", "not on the public internet"),
    ("https://localhost:{port}/o", "not on the public internet"),
])
def test_ssrf_issuers_inside_are_refused_when_saved(tenant_a, issuer, message):
    with loopback_server() as server:  # not in the allowance: a listener the server must not reach
        resp = add_provider(tenant_a, issuer.format(port=server.port))
        assert resp.status_code == 200 and message in resp.content.decode()
        assert server.hits == []
    assert not IdentityProvider.objects.filter(account=tenant_a.account).exists()


def test_a_hanging_issuer_fails_the_save_within_three_seconds(tenant_a, idp):
    idp.server.routes["/o/.well-known/openid-configuration"] = hang(10)
    started = time.monotonic()
    resp = add_provider(tenant_a, idp.issuer)
    assert time.monotonic() - started < 3.5
    assert resp.status_code == 200 and "did not answer in time" in resp.content.decode()
    assert not IdentityProvider.objects.filter(account=tenant_a.account).exists()


def test_a_typo_in_the_issuer_is_a_clear_form_error_not_a_500(tenant_a, idp):
    resp = add_provider(tenant_a, idp.issuer + "x")
    assert resp.status_code == 200 and "Connection test failed" in resp.content.decode()
    assert "404" in resp.content.decode()
    resp = add_provider(tenant_a, "https://no-such-host.invalid/o")
    assert resp.status_code == 200 and "could not be reached" in resp.content.decode()
    assert not IdentityProvider.objects.filter(account=tenant_a.account).exists()


def test_the_discovery_issuer_must_equal_the_configured_issuer(tenant_a, idp):
    idp.discovery["issuer"] = "https://evil.example/o"
    resp = add_provider(tenant_a, idp.issuer)
    assert resp.status_code == 200 and "names the issuer" in resp.content.decode()
    assert not IdentityProvider.objects.filter(account=tenant_a.account).exists()


def test_endpoints_inside_the_network_are_refused_in_discovery(tenant_a, idp):
    idp.discovery["token_endpoint"] = "https://192.168.0.10/token"
    resp = add_provider(tenant_a, idp.issuer)
    assert resp.status_code == 200 and "token_endpoint" in resp.content.decode()
    idp.discovery["token_endpoint"] = "http://idp.example/token"
    assert "must use https" in add_provider(tenant_a, idp.issuer).content.decode()


def test_a_broken_provider_shows_members_a_clear_page(tenant_a, idp, provider):
    """The IdP's token endpoint goes away after set-up: the callback is allauth's error page."""
    client = host_client(tenant_a.host)
    state = start(client, provider, idp)
    idp.server.routes["/o/token/"] = (500, {}, b"down")
    resp = finish(client, provider, state)
    assert resp.status_code == 401 and not signed_in(client)


def refused(client: Any, provider: IdentityProvider, idp: FakeIdp) -> None:
    resp = sign_in(client, provider, idp)
    assert resp.status_code == 401, resp.content.decode()[:1500]
    assert not signed_in(client)
    assert not UserProfile.objects.filter(user__email=idp.email).exists()


def test_a_bad_signature_is_refused(tenant_a, idp, provider):
    idp.sign_with = SigningKey("key-1")  # same key id, another key
    refused(host_client(tenant_a.host), provider, idp)
    event = AuditEvent.objects.get(account=tenant_a.account, action="sso.refused")
    assert "Signature verification failed" in event.changes["reason"]


@pytest.mark.parametrize("claims", [
    {"nonce": "another-browsers-nonce"}, {"nonce": None},
    {"iss": "https://evil.example/o"}, {"aud": "another-client"},
    {"aud": ["tenant-client", "other"]}, {"azp": "other"},
    {"exp": int(time.time()) - 3600}, {"iat": None}, {"iat": int(time.time()) - 7200},
    {"iat": int(time.time()) + 3600},
], ids=["nonce-mismatch", "nonce-missing", "iss", "aud", "aud-several-no-azp", "azp", "expired",
        "iat-missing", "iat-stale", "iat-future"])
def test_id_token_claims_are_checked(tenant_a, idp, provider, claims):
    idp.claims = claims
    refused(host_client(tenant_a.host), provider, idp)


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_unsigned_and_symmetric_tokens_are_refused(tenant_a, idp, provider, monkeypatch, alg):
    def forged() -> str:
        now = int(time.time())
        claims = {"iss": idp.issuer, "aud": idp.client_id, "sub": idp.sub, "iat": now, "exp": now + 300,
                  "nonce": idp.nonce, "email": idp.email, "email_verified": True}
        return jwt.encode(claims, "secret-1" if alg == "HS256" else None, algorithm=alg,  # type: ignore[arg-type]
                          headers={"kid": "key-1"})
    monkeypatch.setattr(idp, "id_token", forged)
    refused(host_client(tenant_a.host), provider, idp)


def test_a_key_rotation_refetches_the_keys_once(tenant_a, idp, provider):
    idp.keys = [SigningKey("key-2")]  # the IdP rotated: the stored set lacks key-2
    client = host_client(tenant_a.host)
    resp = sign_in(client, provider, idp)
    assert resp.status_code == 302 and signed_in(client), resp.content.decode()[:1500]
    provider.refresh_from_db()
    assert [k["kid"] for k in provider.oidc_jwks["keys"]] == ["key-2"]
    assert idp.server.hits.count("/o/jwks/") == 2  # at save, and once for the rotation


def test_an_unknown_key_id_refetches_at_most_once_per_interval(tenant_a, idp, provider):
    forged = SigningKey("key-forged")
    idp.sign_with = forged
    refused(host_client(tenant_a.host), provider, idp)
    refused(host_client(tenant_a.host), provider, idp)
    assert idp.server.hits.count("/o/jwks/") == 2  # at save, then one refetch: not one per attempt


def test_roles_follow_the_groups_claim_on_every_sign_in(tenant_a, idp, provider):
    idp.groups = ["alpha-admins"]
    client = host_client(tenant_a.host)
    assert sign_in(client, provider, idp).status_code == 302
    profile = UserProfile.objects.get(account=tenant_a.account, user__email=idp.email)
    assert profile.role == UserProfile.ROLE_ADMIN
    idp.groups = ["staff"]  # removed from the IdP's admin group
    client = host_client(tenant_a.host)
    assert sign_in(client, provider, idp).status_code == 302 and signed_in(client)
    profile.refresh_from_db()
    assert profile.role == UserProfile.ROLE_MEMBER
    assert AuditEvent.objects.filter(account=tenant_a.account, action="sso.role_changed").count() == 1
    idp.groups = ["alpha-admins"]
    assert sign_in(host_client(tenant_a.host), provider, idp).status_code == 302
    profile.refresh_from_db()
    assert profile.role == UserProfile.ROLE_ADMIN


def test_the_last_admin_is_not_demoted_by_a_sign_in(tenant_a, idp, provider):
    idp.groups = ["alpha-admins"]
    assert sign_in(host_client(tenant_a.host), provider, idp).status_code == 302
    profile = UserProfile.objects.get(account=tenant_a.account, user__email=idp.email)
    others = UserProfile.objects.filter(account=tenant_a.account, role="admin").exclude(pk=profile.pk)
    others.update(role="member")
    idp.groups = []
    assert sign_in(host_client(tenant_a.host), provider, idp).status_code == 302
    profile.refresh_from_db()
    assert profile.role == UserProfile.ROLE_ADMIN
    assert AuditEvent.objects.filter(account=tenant_a.account, action="sso.role_kept").exists()


def test_the_sign_in_start_is_rate_limited_per_provider_and_address(tenant_a, idp, provider):
    from identity.sso.oidc.views import START_LIMIT

    client = host_client(tenant_a.host)
    for _ in range(START_LIMIT):
        assert client.post(f"/accounts/oidc/{provider.slug}/login/", {"process": "login"}).status_code == 302
    resp = client.post(f"/accounts/oidc/{provider.slug}/login/", {"process": "login"})
    assert resp.status_code == 429
    other = host_client(tenant_a.host)
    resp = other.post(f"/accounts/oidc/{provider.slug}/login/", {"process": "login"},
                      REMOTE_ADDR="203.0.113.9")
    assert resp.status_code == 302


def test_test_connection_and_the_refresh_task_keep_the_last_good_copy(tenant_a, idp, provider):
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    idp.keys.append(SigningKey("key-2"))
    resp = admin.post(f"/console/security/sso/{provider.pk}/check/", follow=True)
    assert "connection tested" in resp.content.decode()
    provider.refresh_from_db()
    assert len(provider.oidc_jwks["keys"]) == 2
    idp.discovery["issuer"] = "https://moved.example/o"
    refresh_provider_metadata.enqueue(tenant_a.account.pk, provider.pk)
    provider.refresh_from_db()
    assert "names the issuer" in provider.metadata_error
    assert provider.oidc_discovery["issuer"] == idp.issuer  # the last good copy still signs people in
    page = admin.get("/console/security/sso/").content.decode()
    assert "Last connection test failed" in page
    assert sign_in(host_client(tenant_a.host), provider, idp).status_code == 302


def test_saml_metadata_is_fetched_when_saved_and_never_by_sign_in(tenant_a, idp):
    from tests.support.sso_support import make_key_pair

    pair = make_key_pair()
    body = "".join(pair.cert_pem.strip().splitlines()[1:-1])
    xml = f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.alpha.test/">
<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{body}</ds:X509Certificate>
</ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
    Location="https://idp.alpha.test/sso"/>
</md:IDPSSODescriptor></md:EntityDescriptor>"""
    idp.server.routes["/saml/metadata"] = (200, {"Content-Type": "application/xml"}, xml.encode())
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    resp = admin.post("/console/security/sso/add/saml/", {
        "name": "Alpha SAML", "idp_metadata_url": f"{idp.server.origin}/saml/metadata",
        "default_role": "member", "groups_attribute": "groups"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    p = IdentityProvider.objects.get(account=tenant_a.account)
    assert (p.idp_entity_id, p.idp_sso_url) == ("https://idp.alpha.test/", "https://idp.alpha.test/sso")
    IdentityProvider.objects.filter(pk=p.pk).update(enabled=True)
    hits = list(idp.server.hits)
    resp = host_client(tenant_a.host).post(f"/accounts/saml/{p.slug}/login/", {"process": "login"})
    assert resp.status_code == 302 and resp["Location"].startswith("https://idp.alpha.test/sso?")
    assert idp.server.hits == hits
    idp.server.routes["/saml/metadata"] = json_answer({}, status=404)
    assert "404" in metadata.refresh(p)
