"""Serializers of the account admin's API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Account, AccountContact, ApiKey, Invitation, UserProfile
from accounts.validators import currency_choices, language_choices, timezone_choices
from domains.hostnames import HOSTNAME_PATTERN, normalize_custom_domain
from domains.models import Domain
from tenancy.hosts import LABEL_RE
from tenancy.validators import CONTROL_CHARACTERS, validate_single_line
from workspaces.models import Workspace, validate_workspace_name

from .errors import Conflict


def _strict_string(field: serializers.CharField, data: Any) -> None:
    """A JSON string within max_length as sent (before DRF trims whitespace), as documented."""
    if not isinstance(data, str):
        field.fail("invalid")
    if field.max_length is not None and len(data) > field.max_length:
        field.fail("max_length", max_length=field.max_length, length=len(data))


class StrictCharField(serializers.CharField):
    """A string, not a number coerced to one (DRF's CharField accepts 12 as "12"), within
    max_length even when it is whitespace only (DRF reads that as blank before any check)."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if data is not serializers.empty and data is not None:
            _strict_string(self, data)
        return super().run_validation(data)


class StrictEmailField(serializers.EmailField):
    def run_validation(self, data: Any = serializers.empty) -> Any:
        if data is not serializers.empty and data is not None:
            _strict_string(self, data)
        return super().run_validation(data)


class StrictBooleanField(serializers.BooleanField):
    """Only JSON true/false (DRF's BooleanField also takes "yes", 1, "on", ...)."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class StrictIntegerField(serializers.IntegerField):
    """Only JSON integers (DRF's IntegerField also takes "5" and 5.0)."""

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictChoiceField(serializers.ChoiceField):
    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid_choice", input=data)
        return super().to_internal_value(data)


class StrictSlugRelatedField(serializers.SlugRelatedField):
    """A related object by its name: a string with no NUL or other control character, checked
    before the lookup (PostgreSQL refuses NUL in a query's text: it would be a 500). An empty
    string is refused too (DRF reads it as null): null is written null."""

    def run_validation(self, data: Any = serializers.empty) -> Any:
        if data == "":
            self.fail("invalid")
        return super().run_validation(data)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str) or CONTROL_CHARACTERS.search(data):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose fields accept only the JSON types the schema documents."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.EmailField: StrictEmailField,
        models.URLField: StrictCharField,
        models.BooleanField: StrictBooleanField,
    }
    serializer_choice_field = StrictChoiceField


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.JSONField())


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class AccountSerializer(StrictModelSerializer):
    # The lists the model's validators choose from, so the schema names them (enums).
    language = StrictChoiceField(choices=language_choices(), required=False)
    timezone = StrictChoiceField(choices=timezone_choices(), required=False)
    currency = StrictChoiceField(choices=currency_choices(), required=False)

    class Meta:
        model = Account
        fields = [
            "account_number", "company_name", "phone_number", "address1", "address2", "city",
            "state", "postal_code", "country", "language", "timezone", "currency", "is_active",
            "is_default_account", "created_at", "updated_at",
        ]
        read_only_fields = ["account_number", "is_active", "is_default_account", "created_at",
                            "updated_at"]
        extra_kwargs = {"company_name": {"allow_blank": False}}


class ContactSerializer(StrictModelSerializer):
    class Meta:
        model = AccountContact
        fields = ["id", "email", "first_name", "last_name", "phone", "is_primary", "welcomed",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "welcomed", "created_at", "updated_at"]

    def validate_email(self, value: str) -> str:
        email = value.strip().lower()
        others = AccountContact.objects.filter(account=self.context["account"], email__iexact=email)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise Conflict("This email is already a contact of the account.",
                           {"email": ["This email is already a contact of the account."]})
        return email

    def validate_is_primary(self, value: bool) -> bool:
        if self.instance is not None and self.instance.is_primary and not value:
            # A rule of the stored state, like the last admin: a conflict, not a malformed body.
            message = "An account keeps exactly one primary contact: make another contact primary instead."
            raise Conflict(message, {"is_primary": [message]}, code="last_primary")
        return value


class UserProfileSerializer(StrictModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)

    class Meta:
        model = UserProfile
        fields = ["id", "username", "email", "first_name", "last_name", "role", "is_active",
                  "created_at", "updated_at"]
        read_only_fields = ["id", "username", "email", "first_name", "last_name", "created_at",
                            "updated_at"]


class UserProfileCreateSerializer(serializers.Serializer):
    """A member to add: every address is invited (the person accepts with their own
    credentials), so the answer is the same invitation for known and unknown addresses."""

    email = StrictEmailField(max_length=254)
    role = StrictChoiceField(choices=UserProfile.ROLE_CHOICES, default=UserProfile.ROLE_MEMBER)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise serializers.ValidationError({"password": [
                "Members choose their own password through the invitation link."]})
        return super().to_internal_value(data)

    def validate_email(self, value: str) -> str:
        return value.strip().lower()


# A workspace name as tenancy.hosts.is_workspace_label takes it (a lower-case DNS label); the
# names it also refuses are in a request's schema (api.schema).
WORKSPACE_NAME_PATTERN = f"^{LABEL_RE.pattern}$"


@extend_schema_field({"type": "string", "pattern": WORKSPACE_NAME_PATTERN, "maxLength": 63})
class WorkspaceNameField(StrictCharField):
    """A workspace's name (validate_workspace_name)."""


class WorkspaceSerializer(StrictModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(source="user_profile", read_only=True)
    name = WorkspaceNameField(max_length=63, validators=[validate_workspace_name],
                              help_text=Workspace._meta.get_field("name").help_text)

    class Meta:
        model = Workspace
        fields = ["id", "name", "description", "is_public", "owner", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]


    def validate_name(self, value: str) -> str:
        others = Workspace.objects.filter(account=self.context["account"], name=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise Conflict("This account already has a workspace of that name.",
                           {"name": ["This account already has a workspace of that name."]})
        return value


class ApiKeySerializer(StrictModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(source="user_profile", read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "owner", "is_active", "created_at", "last_used_at",
                  "expires_at", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = StrictCharField(max_length=255, validators=[validate_single_line])
    expires_in_days = StrictIntegerField(min_value=1, max_value=3650, required=False,
                                               allow_null=True, default=None)
    owner = StrictIntegerField(required=False, allow_null=True, default=None,
                                     help_text="Profile id of this account; default: the caller.")

    def validate_owner(self, value: int | None) -> UserProfile | None:
        if value is None:
            return None
        profile = UserProfile.objects.filter(account=self.context["account"], pk=value,
                                             is_active=True, user__is_active=True).first()
        if profile is None:
            raise serializers.ValidationError("No active member of this account has this id.")
        return profile

    def create(self, validated_data: dict[str, Any]) -> ApiKey:
        days = validated_data.get("expires_in_days")
        owner = validated_data.get("owner") or self.context["profile"]
        key, raw = ApiKey.create(
            owner, validated_data["name"],
            expires_at=timezone.now() + timedelta(days=days) if days else None,
        )
        key.raw_key = raw  # type: ignore[attr-defined]
        return key

    def to_representation(self, instance: Any) -> Any:
        data = ApiKeySerializer(instance, context=self.context).data
        data["key"] = getattr(instance, "raw_key", None)
        return data


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="The full key. Shown only in this response.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class DnsRecordSerializer(serializers.Serializer):
    type = serializers.CharField()
    name = serializers.CharField()
    value = serializers.CharField()


@extend_schema_field({"type": "string", "pattern": HOSTNAME_PATTERN, "maxLength": 253})
class HostnameField(StrictCharField):
    """A custom domain's name (checked by the serializer's validate_hostname; the names it
    refuses are in a request's schema: api.schema)."""


@extend_schema_field({"type": "string", "pattern": WORKSPACE_NAME_PATTERN, "maxLength": 63,
                      "nullable": True})
class WorkspaceSlugField(StrictSlugRelatedField):
    """A workspace of the account by its name."""


class DomainSerializer(StrictModelSerializer):
    """A custom domain with the DNS records to create; the hostname is set once, on create."""

    hostname = HostnameField(max_length=260)
    workspace = WorkspaceSlugField(
        slug_field="name", queryset=Workspace.objects.none(), required=False, allow_null=True,
        help_text="Name of the workspace served; null: the account's home page.",
    )
    dns_records = DnsRecordSerializer(many=True, read_only=True)

    class Meta:
        model = Domain
        fields = ["id", "hostname", "workspace", "status", "is_canonical", "token", "dns_records",
                  "verified_at", "last_checked_at", "failing_since", "last_check_detail",
                  "cname_target", "created_at", "updated_at"]
        read_only_fields = ["id", "status", "is_canonical", "token", "verified_at", "last_checked_at",
                            "failing_since", "last_check_detail", "cname_target", "created_at",
                            "updated_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.context.get("account")
        if account is not None:
            self.fields["workspace"].queryset = Workspace.objects.filter(account=account)  # type: ignore[attr-defined]

    def validate_hostname(self, value: str) -> str:
        if self.instance is not None:  # set once: a typed hostname on update is an error, not ignored
            raise serializers.ValidationError(
                "The hostname cannot be changed: add the new domain and remove this one.")
        try:
            host = normalize_custom_domain(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None
        return host  # whether it may be added: domains.claims.add_domain (the view)


class DomainUpdateSerializer(DomainSerializer):
    """The schema of PATCH: the hostname is set once, on create."""

    hostname = serializers.CharField(read_only=True)


class DomainCanonicalSerializer(serializers.Serializer):
    canonical = StrictBooleanField(help_text="true: the number host's pages redirect to this domain.")


class InvitationSerializer(StrictModelSerializer):
    status = serializers.CharField(read_only=True)
    invited_by = serializers.CharField(source="invited_by.user.username", read_only=True, default=None,
                                       allow_null=True)

    class Meta:
        model = Invitation
        fields = ["id", "email", "role", "status", "invited_by", "created_at", "sent_at", "expires_at",
                  "accepted_at", "revoked_at"]
        read_only_fields = ["id", "status", "invited_by", "created_at", "sent_at", "expires_at",
                            "accepted_at", "revoked_at"]
        extra_kwargs = {"email": {"max_length": 254}}
