"""The console's forms: an OIDC provider, a SAML IdP, and the account's SSO policy."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import Account

from .models import IdentityProvider

COMMON = ["name", "default_role", "groups_attribute", "admin_group"]


class OidcProviderForm(forms.ModelForm):
    issuer = forms.URLField(assume_scheme="https", max_length=200,
                            help_text="Issuer URL (its /.well-known/openid-configuration is read)")
    client_secret = forms.CharField(widget=forms.PasswordInput(render_value=False), max_length=1024,
                                    help_text="Stored encrypted; never shown again.")

    class Meta:
        model = IdentityProvider
        fields = ["name", "issuer", "client_id", "client_secret", *COMMON[1:]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for field in ("issuer", "client_id"):
            if not data.get(field):
                self.add_error(field, "Required for OpenID Connect.")
        return data

    def save(self, commit: bool = True) -> IdentityProvider:
        provider = super().save(commit=False)
        provider.kind = IdentityProvider.OIDC
        provider.set_client_secret(self.cleaned_data["client_secret"])
        if commit:
            provider.save()
        return provider


class SamlProviderForm(forms.ModelForm):
    idp_sso_url = forms.URLField(assume_scheme="https", max_length=1024, required=False, label="IdP SSO URL")
    idp_metadata_url = forms.URLField(assume_scheme="https", max_length=1024, required=False,
                                      label="or IdP metadata URL")
    idp_metadata_xml = forms.CharField(widget=forms.Textarea, required=False, max_length=200_000,
                                       label="or IdP metadata XML",
                                       help_text="Fills the entity ID, SSO URL and certificate.")
    class Meta:
        model = IdentityProvider
        fields = ["name", "idp_entity_id", "idp_sso_url", "idp_x509cert", "idp_metadata_url",
                  *COMMON[1:]]
        labels = {"idp_entity_id": "IdP entity ID", "idp_sso_url": "IdP SSO URL",
                  "idp_x509cert": "IdP signing certificate (PEM)", "idp_metadata_url": "or IdP metadata URL"}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("idp_metadata_xml"):
            data.update(_from_metadata(data["idp_metadata_xml"], data.get("idp_entity_id") or None))
        if not data.get("idp_entity_id"):
            self.add_error("idp_entity_id", "Required for SAML.")
        if not data.get("idp_metadata_url") and not (data.get("idp_sso_url") and data.get("idp_x509cert")):
            raise ValidationError("Give the IdP's SSO URL and certificate, or its metadata URL.")
        cert = data.get("idp_x509cert") or ""
        if cert:
            data["idp_x509cert"] = _pem_body(cert)
        return data

    def save(self, commit: bool = True) -> IdentityProvider:
        provider = super().save(commit=False)
        provider.kind = IdentityProvider.SAML
        if commit:
            provider.save()
        return provider


def _from_metadata(xml: str, entity_id: str | None) -> dict[str, str]:
    """Entity ID, SSO URL (HTTP-Redirect) and signing certificate from an IdP's metadata."""
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    try:
        idp = OneLogin_Saml2_IdPMetadataParser.parse(xml, entity_id=entity_id).get("idp") or {}
    except Exception:  # noqa: BLE001 - any parse failure is the admin's input: a form error
        raise ValidationError({"idp_metadata_xml": "Not IdP metadata XML."}) from None
    certs = idp.get("x509certMulti", {}).get("signing") or [idp.get("x509cert", "")]
    found = {"idp_entity_id": idp.get("entityId", ""),
             "idp_sso_url": idp.get("singleSignOnService", {}).get("url", ""),
             "idp_x509cert": certs[0] if certs else ""}
    if not all(found.values()):
        raise ValidationError({"idp_metadata_xml": "The metadata lacks the IdP's entity ID, SSO URL or "
                                                   "certificate."})
    return found


def _pem_body(cert: str) -> str:
    """The certificate as PEM, checked to parse (python3-saml takes the base64 body or PEM)."""
    from cryptography import x509

    text = cert.strip()
    if "BEGIN CERTIFICATE" not in text:
        text = "-----BEGIN CERTIFICATE-----\n" + text + "\n-----END CERTIFICATE-----"
    try:
        x509.load_pem_x509_certificate(text.encode())
    except ValueError:
        raise ValidationError({"idp_x509cert": "Not a PEM certificate."}) from None
    return text


class SsoPolicyForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = ["require_sso", "sso_session_max_age"]
        help_texts = {"require_sso": "Members sign in only through your identity providers; "
                                     "account admins keep password + two-factor."}

    def __init__(self, *args: Any, admin_has_totp: bool, has_providers: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.admin_has_totp = admin_has_totp
        self.has_providers = has_providers

    def clean_require_sso(self) -> bool:
        value = bool(self.cleaned_data.get("require_sso"))
        if value and not self.has_providers:
            raise ValidationError("Add and enable an identity provider first.")
        if value and not self.admin_has_totp:
            raise ValidationError("Set up two-factor authentication for yourself first: it is your "
                                  "break-glass sign-in when the identity provider is down.")
        return value
