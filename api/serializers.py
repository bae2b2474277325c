"""Serializers of the account admin's API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.utils import timezone
from rest_framework import serializers

from accounts.models import Account, AccountContact, ApiKey, UserProfile
from workspaces.models import Workspace, validate_workspace_name

from .errors import Conflict


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.JSONField())


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class AccountSerializer(serializers.ModelSerializer):
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


class ContactSerializer(serializers.ModelSerializer):
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
            raise serializers.ValidationError(
                "An account keeps exactly one primary contact: make another contact primary instead."
            )
        return value


class UserProfileSerializer(serializers.ModelSerializer):
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
    """A new member: an existing user (by email as username) or a new one."""

    email = serializers.EmailField(max_length=150)
    first_name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, default="", allow_blank=True)
    role = serializers.ChoiceField(choices=UserProfile.ROLE_CHOICES, default=UserProfile.ROLE_MEMBER)
    password = serializers.CharField(write_only=True, required=False, allow_blank=True, default="",
                                     max_length=128, style={"input_type": "password"})

    def validate_email(self, value: str) -> str:
        email = value.strip().lower()
        if UserProfile.objects.filter(account=self.context["account"],
                                      user__username__iexact=email).exists():
            raise Conflict("This person is already a member of the account.",
                           {"email": ["This person is already a member of the account."]})
        return email

    def validate_password(self, value: str) -> str:
        if value:
            validate_password(value)
        return value

    def create(self, validated_data: dict[str, Any]) -> UserProfile:
        user, created = get_user_model().objects.get_or_create(
            username=validated_data["email"],
            defaults={k: validated_data[k] for k in ("email", "first_name", "last_name")},
        )
        if created:
            if validated_data["password"]:
                user.set_password(validated_data["password"])
            else:
                user.set_unusable_password()
            user.save()
        return UserProfile.objects.create(user=user, account=self.context["account"],
                                          role=validated_data["role"])

    def to_representation(self, instance: Any) -> Any:
        return UserProfileSerializer(instance, context=self.context).data


class WorkspaceSerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(source="user_profile", read_only=True)

    class Meta:
        model = Workspace
        fields = ["id", "name", "description", "is_public", "owner", "created_at", "updated_at"]
        read_only_fields = ["id", "owner", "created_at", "updated_at"]
        extra_kwargs = {"name": {"validators": [validate_workspace_name]}}

    def validate_name(self, value: str) -> str:
        others = Workspace.objects.filter(account=self.context["account"], name=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise Conflict("This account already has a workspace of that name.",
                           {"name": ["This account already has a workspace of that name."]})
        return value


class ApiKeySerializer(serializers.ModelSerializer):
    owner = serializers.PrimaryKeyRelatedField(source="user_profile", read_only=True)

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "owner", "is_active", "created_at", "last_used_at",
                  "expires_at", "revoked_at"]
        read_only_fields = fields


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=255)
    expires_in_days = serializers.IntegerField(min_value=1, max_value=3650, required=False,
                                               allow_null=True, default=None)
    owner = serializers.IntegerField(required=False, allow_null=True, default=None,
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
