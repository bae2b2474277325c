"""Single sign-on around the sign-in: the console pages, verified email domains by DNS,
secrets at rest, scoping of the providers to their account's hosts, required SSO (members
refused password, reset and invitation-with-password; admins keep password + two-factor),
and the sign-in page's queries (the provider list comes from the tenant cache)."""

from __future__ import annotations

import pyotp
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Account, Invitation, UserProfile
from identity.emaildomains.lookup import is_trusted_email
from identity.emaildomains.models import EmailDomain
from identity.sso import crypto
from identity.sso.adapter import TenantSocialAccountAdapter
from identity.sso.models import IdentityProvider
from tests.conftest import PASSWORD, host_client
from tests.support.dns_server import dns_zone  # noqa: F401 - fixture
from tests.support.oidc_support import fake_idp  # noqa: F401 - fixture
from tests.support.sso_support import make_key_pair, saml_provider, verify_email_domain

pytestmark = pytest.mark.django_db


def oidc(account: Account, name: str = "Okta",
         issuer: str = "https://idp.example.test/o") -> IdentityProvider:
    provider = IdentityProvider(account=account, kind="oidc", name=name, issuer=issuer, client_id="client-1",
                                metadata_checked_at=timezone.now())
    provider.set_client_secret("s3cret-value")
    provider.save()
    return provider


def test_the_admin_adds_providers_and_sees_what_to_paste(tenant_a, fake_idp):  # noqa: F811
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    resp = admin.post("/console/security/sso/add/oidc/", {
        "name": "Okta", "issuer": fake_idp.issuer, "client_id": "abc",
        "client_secret": "top-secret-1", "default_role": "member", "groups_attribute": "groups",
        "admin_group": ""})
    assert resp.status_code == 302
    resp = admin.post("/console/security/sso/add/saml/", {
        "name": "Entra", "idp_entity_id": "https://sts.entra.test/x", "idp_sso_url": "https://login.entra.test/saml",
        "idp_x509cert": make_key_pair().cert_pem, "default_role": "member", "groups_attribute": "groups"})
    assert resp.status_code == 302
    page = admin.get("/console/security/sso/").content.decode()
    number = tenant_a.account.account_number.replace("-", "")
    host = f"http://{tenant_a.host}"
    assert f"{host}/accounts/oidc/acct-{number}-1/login/callback/" in page  # the redirect URI
    assert f"{host}/accounts/saml/acct-{number}-2/acs/" in page  # ACS URL
    assert f"{host}/accounts/saml/acct-{number}-2/metadata/" in page  # SP entity id
    assert "top-secret-1" not in page
    stored = IdentityProvider.objects.get(name="Okta")
    assert stored.client_secret_encrypted and "top-secret-1" not in stored.client_secret_encrypted
    assert crypto.decrypt(stored.client_secret_encrypted) == "top-secret-1"
    # Bad input is a form error, never a 500.
    bad = admin.post("/console/security/sso/add/saml/", {"name": "x", "idp_entity_id": "e",
                                                        "idp_x509cert": "not a cert", "idp_sso_url": "https://a.test"})
    assert bad.status_code == 200 and "Not a PEM certificate" in bad.content.decode()
    # Members cannot see or change any of it.
    member = host_client(tenant_a.host, tenant_a.member.user)
    assert member.get("/console/security/sso/").status_code == 403
    assert member.post(f"/console/security/sso/{stored.pk}/delete/").status_code == 403


def test_secrets_rotate_with_a_new_first_key(settings):
    settings.SSO_ENCRYPTION_KEYS = ["old-key"]
    stored = crypto.encrypt("value")
    settings.SSO_ENCRYPTION_KEYS = ["new-key", "old-key"]
    assert crypto.decrypt(stored) == "value"
    settings.SSO_ENCRYPTION_KEYS = ["other-key"]
    assert crypto.decrypt(stored) == ""  # unreadable: empty, logged, never an exception


def test_a_provider_is_listed_and_usable_only_on_its_accounts_hosts(tenant_a, tenant_b, rf):
    a_provider, b_provider = oidc(tenant_a.account, "Alpha IdP"), oidc(tenant_b.account, "Bravo IdP", "https://bravo-idp.test/o")
    adapter = TenantSocialAccountAdapter()
    request = rf.get("/login/")
    request.account = tenant_a.account
    assert [app.provider_id for app in adapter.list_apps(request)] == [a_provider.slug]
    assert adapter.list_apps(request, provider=b_provider.slug) == []
    assert adapter.get_app(request, a_provider.slug).secret == "s3cret-value"
    page_a = host_client(tenant_a.host).get("/login/").content.decode()
    page_b = host_client(tenant_b.host).get("/login/").content.decode()
    assert "Sign in with Alpha IdP" in page_a and "Bravo IdP" not in page_a
    assert "Sign in with Bravo IdP" in page_b and "Alpha IdP" not in page_b
    on_b = host_client(tenant_b.host)
    assert on_b.post(f"/accounts/oidc/{a_provider.slug}/login/", {"process": "login"}).status_code == 404
    assert on_b.get(f"/accounts/oidc/{a_provider.slug}/login/callback/?code=x&state=y").status_code == 404
    # The same provider on A's host starts the flow (to the IdP's discovery: none here, refused
    # without a 500) and its sign-in page's form-action admits the IdP's origin.
    resp = host_client(tenant_a.host).get("/login/")
    assert "https://idp.example.test" in resp["Content-Security-Policy"]
    assert "idp.example.test" not in host_client(tenant_b.host).get("/login/")["Content-Security-Policy"]
    # Disabled: gone from the page and unusable.
    a_provider.enabled = False
    a_provider.save()
    assert "Alpha IdP" not in host_client(tenant_a.host).get("/login/").content.decode()
    assert host_client(tenant_a.host).post(f"/accounts/oidc/{a_provider.slug}/login/").status_code == 404


def test_a_warm_sign_in_page_costs_no_query_with_or_without_sso(tenant_a, tenant_b):
    oidc(tenant_a.account)
    saml_provider(tenant_a.account, make_key_pair())
    counts = {}
    for tenant in (tenant_a, tenant_b):
        client = host_client(tenant.host)
        client.get("/login/")  # warm
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/login/").status_code == 200
        counts[tenant.account.company_name] = len(queries)
    assert counts == {"Alpha Corp": 0, "Bravo Corp": 0}


def test_the_sign_in_page_renders_without_sso_buttons_while_the_database_is_down(tenant_a, monkeypatch):
    """A process that never cached the account's providers meets a database outage: the page
    still renders its password form (it did before single sign-on; tests/test_outages.py
    stops a real PostgreSQL under gunicorn), only without the buttons."""
    from django.db import OperationalError

    oidc(tenant_a.account)
    client = host_client(tenant_a.host)
    assert "Sign in with" in client.get("/login/").content.decode()

    def down(account_id):  # type: ignore[no-untyped-def]
        raise OperationalError("connection refused")

    monkeypatch.setattr("identity.sso.templatetags.sso.account_providers", down)
    page = client.get("/login/")
    assert page.status_code == 200
    assert 'name="password"' in page.content.decode() and "Sign in with" not in page.content.decode()


def test_email_domains_are_proven_by_dns(tenant_a, dns_zone):  # noqa: F811
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    assert admin.post("/console/security/email-domains/", {"domain": "Alpha-Corp.TEST."}).status_code == 302
    domain = EmailDomain.objects.get(account=tenant_a.account)
    assert domain.domain == "alpha-corp.test" and not domain.is_verified
    page = admin.get("/console/security/email-domains/").content.decode()
    assert "_smarter-challenge.alpha-corp.test" in page and domain.token in page
    assert not is_trusted_email(tenant_a.account.pk, "x@alpha-corp.test")
    admin.post(f"/console/security/email-domains/{domain.pk}/verify/")
    assert not EmailDomain.objects.get(pk=domain.pk).is_verified  # no record yet
    dns_zone.set("_smarter-challenge.alpha-corp.test", "TXT", domain.token)
    admin.post(f"/console/security/email-domains/{domain.pk}/verify/")
    assert EmailDomain.objects.get(pk=domain.pk).is_verified
    assert is_trusted_email(tenant_a.account.pk, "X@Alpha-Corp.test")
    assert not is_trusted_email(tenant_a.account.pk, "x@sub.alpha-corp.test")
    assert admin.post("/console/security/email-domains/", {"domain": "alpha-corp.test"}).status_code == 200
    assert admin.post("/console/security/email-domains/", {"domain": "localhost"}).status_code == 200
    admin.post(f"/console/security/email-domains/{domain.pk}/delete/")
    assert not is_trusted_email(tenant_a.account.pk, "x@alpha-corp.test")  # the cache follows


@pytest.fixture
def strict(tenant_a):  # type: ignore[no-untyped-def]
    """Account A requires SSO (one SAML provider)."""
    saml_provider(tenant_a.account, make_key_pair(), name="Alpha IdP")
    verify_email_domain(tenant_a.account, "alpha.test")
    Account.objects.filter(pk=tenant_a.account.pk).update(require_sso=True)
    return tenant_a


def _password_sign_in(host: str, login: str):  # type: ignore[no-untyped-def]
    client = host_client(host)
    return client, client.post("/login/", {"login": login, "password": PASSWORD})


def test_required_sso_refuses_members_password_sign_in_with_a_clear_page(strict):
    client, resp = _password_sign_in(strict.host, strict.member.user.username)
    assert resp.status_code == 403
    page = resp.content.decode()
    assert "Single sign-on required" in page and "Sign in with Alpha IdP" in page
    assert "_auth_user_id" not in client.session


def test_required_sso_keeps_password_and_two_factor_for_admins(strict):
    secret = generate_totp_secret()
    TOTP.activate(strict.admin.user, secret)
    client, resp = _password_sign_in(strict.host, strict.admin.user.username)
    assert resp.status_code == 302 and "/accounts/2fa/authenticate/" in resp["Location"]
    done = client.post("/accounts/2fa/authenticate/", {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and "_auth_user_id" in client.session


def test_required_sso_sends_members_no_reset_link(strict):
    """A member's address gets what any address without an account here gets (no oracle)."""
    mail.outbox.clear()
    for address in (strict.member.user.email, strict.admin.user.email):
        host_client(strict.host).post("/accounts/password/reset/", {"email": address})
    links = {tuple(m.to): "/accounts/password/reset/key/" in m.body for m in mail.outbox}
    assert links == {(strict.member.user.email,): False, (strict.admin.user.email,): True}


def test_required_sso_refuses_a_members_invitation_with_password(strict):
    _, member_token = Invitation.issue(strict.account, "new@alpha.test", "member", strict.admin)
    _, admin_token = Invitation.issue(strict.account, "boss@alpha.test", "admin", strict.admin)
    resp = host_client(strict.host).get(f"/invitations/{member_token}/")
    assert resp.status_code == 403 and "Single sign-on required" in resp.content.decode()
    assert host_client(strict.host).get(f"/invitations/{admin_token}/").status_code == 200


def test_required_sso_needs_a_provider_and_the_admins_own_two_factor(tenant_a):
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    form = {"require_sso": "on", "sso_session_max_age": "3600"}
    resp = admin.post("/console/security/sso/", form)
    assert resp.status_code == 200 and "Add and enable an identity provider first" in resp.content.decode()
    saml_provider(tenant_a.account, make_key_pair())
    resp = admin.post("/console/security/sso/", form)
    assert resp.status_code == 200 and "two-factor" in resp.content.decode()
    TOTP.activate(tenant_a.admin.user, generate_totp_secret())
    assert admin.post("/console/security/sso/", form).status_code == 302
    account = Account.objects.get(pk=tenant_a.account.pk)
    assert account.require_sso and account.sso_session_max_age == 3600
    assert admin.post("/console/security/sso/", {**form, "sso_session_max_age": "5"}).status_code == 200


def test_required_sso_without_an_enabled_provider_requires_nothing(strict):
    IdentityProvider.objects.filter(account=strict.account).update(enabled=False)
    from identity.sso.caching import providers_key
    from tenancy.cache import tenant_cache

    tenant_cache.invalidate(providers_key(strict.account.pk))  # a queryset update sends no signal
    _, resp = _password_sign_in(strict.host, strict.member.user.username)
    assert resp.status_code == 302


def test_removing_a_provider_forgets_its_identities(tenant_a):
    from allauth.socialaccount.models import SocialAccount

    provider = oidc(tenant_a.account)
    SocialAccount.objects.create(user=tenant_a.member.user, provider=provider.slug, uid="sub-1")
    host_client(tenant_a.host, tenant_a.admin.user).post(f"/console/security/sso/{provider.pk}/delete/")
    assert not SocialAccount.objects.filter(provider=provider.slug).exists()
    assert UserProfile.objects.filter(pk=tenant_a.member.pk, is_active=True).exists()
    again = oidc(tenant_a.account)
    assert again.slug == provider.slug  # a reused slug starts with no identities


def test_a_saml_idp_is_added_from_its_metadata_xml(tenant_a):
    cert = make_key_pair().cert_pem
    body = "".join(cert.strip().splitlines()[1:-1])
    metadata = f"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"
        xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.meta.test/saml">
      <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
        <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data>
          <ds:X509Certificate>{body}</ds:X509Certificate>
        </ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
        <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect"
            Location="https://idp.meta.test/sso"/>
      </md:IDPSSODescriptor></md:EntityDescriptor>"""
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    resp = admin.post("/console/security/sso/add/saml/", {
        "name": "Meta", "idp_metadata_xml": metadata, "default_role": "member", "groups_attribute": "groups"})
    assert resp.status_code == 302, resp.content.decode()[:2000]
    provider = IdentityProvider.objects.get(name="Meta")
    assert provider.idp_entity_id == "https://idp.meta.test/saml"
    assert provider.idp_sso_url == "https://idp.meta.test/sso"
    assert body[:40] in provider.idp_x509cert.replace("\n", "")
    bad = admin.post("/console/security/sso/add/saml/", {"name": "Bad", "idp_metadata_xml": "<nope",
                                                        "default_role": "member"})
    assert bad.status_code == 200 and "Not IdP metadata XML" in bad.content.decode()


def test_provider_names_are_unique_per_account_whatever_the_case(tenant_a, tenant_b):
    """A second "Okta" (any case) in one account is a clear form error, and the database
    refuses it too; another account may use the name."""
    saml = {"idp_entity_id": "https://sts.entra.test/x", "idp_sso_url": "https://login.entra.test/saml",
            "idp_x509cert": make_key_pair().cert_pem, "default_role": "member", "groups_attribute": "groups"}
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    assert admin.post("/console/security/sso/add/saml/", {"name": "Okta", **saml}).status_code == 302
    again = admin.post("/console/security/sso/add/saml/", {"name": " OKTA ", **saml})
    assert again.status_code == 200 and "already has a provider named" in again.content.decode()
    assert IdentityProvider.objects.filter(account=tenant_a.account).count() == 1
    with pytest.raises(IntegrityError), transaction.atomic():
        IdentityProvider.objects.create(account=tenant_a.account, kind="saml", name="okta", number=9,
                                        idp_entity_id="e", idp_sso_url="https://a.test", idp_x509cert="x")
    other = host_client(tenant_b.host, tenant_b.admin.user)
    assert other.post("/console/security/sso/add/saml/", {"name": "Okta", **saml}).status_code == 302


@pytest.mark.parametrize("domain", ["gmail.com", "GMail.com.", "outlook.com", "yahoo.co.uk", "proton.me"])
def test_public_mail_domains_cannot_be_email_domains(tenant_a, domain):
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    page = admin.post("/console/security/email-domains/", {"domain": domain})
    assert page.status_code == 200
    assert "public mail service" in page.content.decode()
    assert not EmailDomain.objects.filter(account=tenant_a.account).exists()
