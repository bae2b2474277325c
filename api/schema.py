"""OpenAPI: every operation documents the JSON error shape for its error statuses, and each
request field states the rules its validators enforce (patterns, formats, excluded names), so
a body the schema allows is one the server accepts."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from accounts.validators import PHONE_NUMBER_PATTERN, validate_phone_number
from domains.hostnames import custom_domain_schema
from tenancy.hosts import workspace_label_schema
from tenancy.validators import STRIPPED, single_line_pattern, validate_single_line

from .serializers import ErrorSerializer, HostnameField, WorkspaceNameField, WorkspaceSlugField

#: Every phone number field: the pattern, and ``format: phone`` for what no pattern can say.
PHONE_FORMAT = "phone"


class ApiAutoSchema(AutoSchema):
    def _creates(self) -> bool:
        from .idempotency import IDEMPOTENT_ACTIONS

        return self.method == "POST" and getattr(self.view, "action", None) in IDEMPOTENT_ACTIONS

    def get_override_parameters(self) -> list[Any]:
        """Creating operations take an ``Idempotency-Key`` header (api.idempotency)."""
        from .idempotency import PARAMETER

        parameters = list(super().get_override_parameters())
        return [*parameters, PARAMETER] if self._creates() else parameters

    def _get_request_for_media_type(self, serializer: Any, direction: str = "request") -> Any:
        """A body given as a JSON schema (the batch: a non-empty array) is required too."""
        schema, required = super()._get_request_for_media_type(serializer, direction)
        if isinstance(serializer, dict) and serializer.get("minItems"):
            required = True
        return schema, required

    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        """A blank-allowed string is its pattern's or the empty string: ``anyOf``, since the
        empty string may match both (``oneOf`` would then refuse it)."""
        super()._insert_field_validators(field, schema)
        if schema.get("oneOf", [None])[-1] == {"type": "string", "maxLength": 0}:
            schema["anyOf"] = schema.pop("oneOf")

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction != "request" or field.read_only:
            return schema
        return {**schema, **request_field_rules(field, schema)}

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        statuses = ["400", "401", "403", "404", "405", "406", "409", "415", "429"]
        if self.method == "GET":
            statuses = ["400", "401", "403", "404", "405", "406", "429"]
        elif self._creates():
            statuses = [*statuses, "422"]
        for code in statuses:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
        return responses


def request_field_rules(field: serializers.Field, schema: dict[str, Any]) -> dict[str, Any]:
    """What a request field's validators refuse, as schema keywords: names from settings (a
    custom domain, a workspace), a phone number's pattern and format, a single-line field's
    pattern (no control character between the trimmed ends), and for any other text no NUL
    (DRF refuses it). A blank string is allowed only where the field allows it."""
    if isinstance(field, HostnameField):
        return custom_domain_schema()
    if isinstance(field, (WorkspaceNameField, WorkspaceSlugField)):
        return workspace_label_schema()
    if not isinstance(field, serializers.CharField) or schema.get("type") != "string" \
            or {"pattern", "format", "enum"} & schema.keys():
        return {}
    if validate_phone_number in field.validators:
        return {"pattern": PHONE_NUMBER_PATTERN, "format": PHONE_FORMAT,
                "description": "A local number, or + and a number possible for its country calling "
                               "code (libphonenumber)."}
    if validate_single_line in field.validators:
        return {"pattern": single_line_pattern(allow_blank=field.allow_blank)}
    if field.allow_blank:
        return {"pattern": "^[^\\x00]*$"}
    return {"pattern": f"^[^\\x00]*[^\\x00{STRIPPED}][^\\x00]*$"}
