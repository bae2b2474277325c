"""Helpers of the SSO tests: a SAML identity provider made in the test (its own key and
certificate, responses signed with python3-saml's signing), verified email domains and
providers for an account."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import zlib
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.utils import timezone
from onelogin.saml2.utils import OneLogin_Saml2_Utils

from accounts.models import Account
from identity.emaildomains.models import EmailDomain
from identity.sso.models import IdentityProvider


@dataclass
class KeyPair:
    key_pem: str
    cert_pem: str


def make_key_pair(common_name: str = "idp.test") -> KeyPair:
    """An RSA key and a self-signed certificate, made now."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    return KeyPair(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()).decode(),
        cert.public_bytes(serialization.Encoding.PEM).decode(),
    )


def verify_email_domain(account: Account, domain: str) -> EmailDomain:
    return EmailDomain.objects.create(account=account, domain=domain, verified_at=timezone.now())


def saml_provider(account: Account, pair: KeyPair, entity_id: str = "https://idp.example.test/",
                  **fields: object) -> IdentityProvider:
    return IdentityProvider.objects.create(
        account=account, kind=IdentityProvider.SAML, name=fields.pop("name", "Example IdP"),
        idp_entity_id=entity_id, idp_sso_url="https://idp.example.test/sso", idp_x509cert=pair.cert_pem,
        **fields)


def authn_request_id(location: str) -> str:
    """The ID of the AuthnRequest in a redirect-binding URL (deflated, base64)."""
    raw = parse_qs(urlsplit(location).query)["SAMLRequest"][0]
    xml = zlib.decompress(base64.b64decode(raw), -15)
    return str(ElementTree.fromstring(xml).attrib["ID"])  # noqa: S314 - our own request


def _instant(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def saml_response(pair: KeyPair, *, issuer: str, acs_url: str, audience: str, in_response_to: str,
                  email: str, name_id: str | None = None, groups: tuple[str, ...] = (),
                  valid_for: dt.timedelta = dt.timedelta(minutes=5),
                  issued_ago: dt.timedelta = dt.timedelta(0), sign: bool = True,
                  attributes: bool = True,
                  name_id_format: str = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent") -> str:
    """A SAML 2.0 Response (base64, for the HTTP-POST binding), signed by the IdP's key;
    ``attributes=False`` leaves out the AttributeStatement (the NameID carries the address)."""
    now = dt.datetime.now(dt.UTC) - issued_ago
    until = now + valid_for
    rid, aid = "_" + secrets.token_hex(16), "_" + secrets.token_hex(16)
    attrs = (f'<saml:Attribute Name="email"><saml:AttributeValue>{email}</saml:AttributeValue>'
             "</saml:Attribute>")
    if groups:
        values = "".join(f"<saml:AttributeValue>{g}</saml:AttributeValue>" for g in groups)
        attrs += f'<saml:Attribute Name="groups">{values}</saml:Attribute>'
    xml = f"""<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"
    xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{rid}" Version="2.0"
    IssueInstant="{_instant(now)}" Destination="{acs_url}" InResponseTo="{in_response_to}">
<saml:Issuer>{issuer}</saml:Issuer>
<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>
<saml:Assertion ID="{aid}" Version="2.0" IssueInstant="{_instant(now)}">
<saml:Issuer>{issuer}</saml:Issuer>
<saml:Subject>
<saml:NameID Format="{name_id_format}">{name_id or email}</saml:NameID>
<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">
<saml:SubjectConfirmationData NotOnOrAfter="{_instant(until)}" Recipient="{acs_url}"
    InResponseTo="{in_response_to}"/>
</saml:SubjectConfirmation>
</saml:Subject>
<saml:Conditions NotBefore="{_instant(now - dt.timedelta(seconds=30))}" NotOnOrAfter="{_instant(until)}">
<saml:AudienceRestriction><saml:Audience>{audience}</saml:Audience></saml:AudienceRestriction>
</saml:Conditions>
<saml:AuthnStatement AuthnInstant="{_instant(now)}" SessionIndex="{aid}"><saml:AuthnContext>
<saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef>
</saml:AuthnContext></saml:AuthnStatement>
{f"<saml:AttributeStatement>{attrs}</saml:AttributeStatement>" if attributes else ""}
</saml:Assertion>
</samlp:Response>"""
    if sign:
        signed = OneLogin_Saml2_Utils.add_sign(xml, pair.key_pem, pair.cert_pem)
        xml = signed.decode() if isinstance(signed, bytes) else str(signed)
    return base64.b64encode(xml.encode()).decode()


def seed_sso_rows(account: Account, tag: str) -> None:
    """One row of each SSO tenant table (for tests that must cover every tenant table)."""
    EmailDomain.objects.create(account=account, domain=f"{tag}-mail.test")
    provider = IdentityProvider(account=account, kind=IdentityProvider.OIDC, name=f"{tag} IdP",
                                issuer=f"https://{tag}-idp.test/o", client_id=tag,
                                metadata_checked_at=timezone.now())
    provider.set_client_secret(f"{tag}-secret")
    provider.save()
