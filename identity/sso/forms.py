"""The console's forms: an OIDC provider, a SAML IdP, and the account's SSO policy."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.models import Account

from . import metadata
from .models import DUPLICATE_NAME, IdentityProvider

COMMON = ["name", "default_role", "groups_attribute", "admin_group"]


class UniqueNameMixin:
    """A provider's name is unique in its account whatever the case (the sign-in page's
    buttons say "Sign in with <name>"); the database holds the rule too
    (``sso_provider_name_per_account``). The form's instance carries the account."""

    def clean_name(self) -> str:
        name = " ".join(str(self.cleaned_data.get("name") or "").split())  # type: ignore[attr-defined]
        instance = self.instance  # type: ignore[attr-defined]
        if name and instance.account_id is not None and IdentityProvider.objects.filter(
                account_id=instance.account_id, name__iexact=name).exclude(pk=instance.pk).exists():
            raise ValidationError(DUPLICATE_NAME)
        return name


class OidcProviderForm(UniqueNameMixin, forms.ModelForm):
    """Saving is the connection test: the issuer's discovery document and keys are fetched and
    checked (a failure is a form error) and stored; the new provider starts disabled."""

    issuer = forms.URLField(assume_scheme="https", max_length=200,
                            help_text="Issuer URL, exactly as the provider publishes it "
                                      "(its /.well-known/openid-configuration is read now)")
    client_secret = forms.CharField(widget=forms.PasswordInput(render_value=False), max_length=1024,
                                    help_text="Stored encrypted; never shown again.")

    class Meta:
        model = IdentityProvider
        fields = ["name", "issuer", "client_id", "client_secret", "scopes", *COMMON[1:]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for field in ("issuer", "client_id"):
            if not data.get(field):
                self.add_error(field, "Required for OpenID Connect.")
        if data.get("issuer") and not self.errors:
            try:
                self.published = metadata.fetch_oidc(data["issuer"])
            except metadata.ProviderCheckFailed as exc:
                self.add_error("issuer", f"Connection test failed: {exc}")
        return data

    def save(self, commit: bool = True) -> IdentityProvider:
        provider = super().save(commit=False)
        provider.kind = IdentityProvider.OIDC
        provider.set_client_secret(self.cleaned_data["client_secret"])
        provider.oidc_discovery, provider.oidc_jwks = self.published
        provider.metadata_checked_at, provider.metadata_error = timezone.now(), ""
        if provider._state.adding:
            provider.enabled = False  # until the admin has tried a sign-in and enables it
        if commit:
            provider.save()
        return provider


class SamlProviderForm(UniqueNameMixin, forms.ModelForm):
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
        try:
            if data.get("idp_metadata_xml"):
                data.update(metadata.parse_saml_metadata(data["idp_metadata_xml"],
                                                         data.get("idp_entity_id") or None))
            elif data.get("idp_metadata_url"):  # fetched now and stored: sign-in never fetches it
                data.update(metadata.fetch_saml_metadata(data["idp_metadata_url"],
                                                         data.get("idp_entity_id") or None))
        except metadata.ProviderCheckFailed as exc:
            field = "idp_metadata_xml" if data.get("idp_metadata_xml") else "idp_metadata_url"
            raise ValidationError({field: str(exc)}) from None
        if not data.get("idp_entity_id"):
            self.add_error("idp_entity_id", "Required for SAML.")
        if not (data.get("idp_sso_url") and data.get("idp_x509cert")):
            raise ValidationError("Give the IdP's SSO URL and certificate, or its metadata URL.")
        cert = data.get("idp_x509cert") or ""
        if cert:
            data["idp_x509cert"] = _pem_body(cert)
        return data

    def save(self, commit: bool = True) -> IdentityProvider:
        provider = super().save(commit=False)
        provider.kind = IdentityProvider.SAML
        provider.metadata_checked_at, provider.metadata_error = timezone.now(), ""
        if provider._state.adding:
            provider.enabled = False  # until the admin has tried a sign-in and enables it
        if commit:
            provider.save()
        return provider


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
