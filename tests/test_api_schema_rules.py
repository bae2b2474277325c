"""The request schema states the rules the fields enforce: a value the schema allows is one the
field accepts, and one it refuses the field refuses (the hostname and workspace names read
from settings, patterns for single-line text and phone numbers, the batch's required body)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from django.test import override_settings
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from api.schema import PHONE_FORMAT
from api.serializers import AccountSerializer, DomainSerializer, WorkspaceSerializer

TRICKY = ["", " ", "Acme", "  Acme  ", "\tAcme\n", "Ac\nme", "Ac\x00me", "Ac\u202eme", "\x00",
          "\u3000Acme\u2028", "Acme\x85", "Ac\x85me", " \n ", "Ac\x1fme", "\x1f", "Ac\tme", "ÄÖü ñ",
          "\x85" * 256, " " * 255, 12]
PHONES = ["", "\x85" * 33, " " * 32, "+1 415 555 0100", "+49 30 901820", "030 901820",
          "(030) 90-18.20/1", "12 ext. 5", "12x5", " 030 1234\t", "+", "phone", "12\n34",
          "+49 30 901820 EXT 7", "--1--"]


def _request_schemas() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _property(component: str, name: str) -> dict[str, Any]:
    return _request_schemas()["components"]["schemas"][component]["properties"][name]


def _allows(schema: dict[str, Any], value: Any) -> bool:
    return jsonschema.Draft7Validator(schema).is_valid(value)


def _accepts(field: serializers.Field, value: Any) -> bool:
    try:
        field.run_validation(value)
    except serializers.ValidationError:
        return False
    return True


@pytest.mark.parametrize("name", ["company_name", "city", "country", "postal_code"])
def test_single_line_text_is_allowed_by_the_schema_exactly_when_the_field_accepts_it(name):
    schema = _request_schemas()["components"]["schemas"]["PatchedAccountRequest"]["properties"][name]
    field = AccountSerializer().fields[name]
    disagreements = [v for v in TRICKY if _allows(schema, v) != _accepts(field, v)]
    assert disagreements == []
    assert not _allows(schema, "Ac\nme") and _allows(schema, "  Acme  ")


def test_the_phone_pattern_allows_what_the_field_accepts_and_the_format_names_the_rest():
    schema = _property("PatchedAccountRequest", "phone_number")
    field = AccountSerializer().fields["phone_number"]
    assert [v for v in PHONES if _allows(schema, v) != _accepts(field, v)] == []
    # "+" and a number no country has: the pattern allows it, `format: phone` (libphonenumber)
    # does not; the schemathesis run generates that format from libphonenumber's examples.
    assert PHONE_FORMAT in str(schema)
    assert _allows(schema, "+0") and not _accepts(field, "+0") and _accepts(field, "+44 20 7946 0958")


def test_free_text_refuses_only_nul():
    schema = _property("WorkspaceRequest", "description")
    field = WorkspaceSerializer().fields["description"]
    assert [v for v in TRICKY if _allows(schema, v) != _accepts(field, v)] == []


@pytest.mark.parametrize("name", ["team", "a", "www", "api", "admin", "1234-5678-9012", "xn--bcher-kva",
                                  "Team", "-a", "a-", "a" * 63, "a" * 64, "prod", "t\u00e9am"])
def test_the_workspace_name_schema_refuses_the_reserved_names_the_server_refuses(name):
    schema = _property("WorkspaceRequest", "name")
    assert _allows(schema, name) == _accepts(WorkspaceSerializer().fields["name"], name)


@override_settings(ROOT_DOMAIN="smarter.example.com",
                   ALLOWED_HOSTS=["smarter.example.com", ".smarter.example.com", "testserver",
                                  "localhost", "[::1]"])
@pytest.mark.parametrize("hostname", [
    "app.alpha-corp.test", "App.Alpha-Corp.Test.", "smarter.example.com", "x.smarter.example.com",
    "X.SMARTER.Example.com.", "example.com", "com", "my-smarter.example.com.au", "testserver.org",
    "a.testserver", "localhost", "1.2.3.4", "a..b", "a_b.test",
])
def test_the_hostname_schema_refuses_the_platform_s_own_names(hostname):
    schema = _property("DomainRequest", "hostname")
    serializer = DomainSerializer()
    try:
        serializer.validate_hostname(serializer.fields["hostname"].run_validation(hostname))
        accepted = True
    except serializers.ValidationError:
        accepted = False
    assert _allows(schema, hostname) == accepted


def test_the_batch_body_is_required():
    body = _request_schemas()["paths"]["/api/v1/users/batch/"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"]["minItems"] == 1
