"""The schemas and resource types /scim/v2/ publishes (RFC 7643 sections 6 and 7).

They are django-scim2's copies of RFC 7643's core User and Group schemas cut down to what
this provider stores and returns: a schema that advertised ``title`` or ``phoneNumbers`` as
readWrite while the server dropped them would tell a provider its data was kept. Group
``displayName`` is readOnly: the groups are the account's roles, and their names are fixed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import django_scim
from django.urls import reverse
from django_scim import constants

_CORE = Path(django_scim.__file__).parent / "schemas" / "core"

# attribute -> the sub-attributes kept (None: a simple attribute)
USER_ATTRIBUTES: dict[str, tuple[str, ...] | None] = {
    "userName": None,
    "name": ("formatted", "familyName", "givenName"),
    "displayName": None,
    "active": None,
    "emails": ("value",),
    "groups": ("value", "$ref", "display"),
}
GROUP_ATTRIBUTES: dict[str, tuple[str, ...] | None] = {
    "displayName": None,
    "members": ("value", "$ref", "display"),
}
_DISPLAY = {"name": "display", "type": "string", "multiValued": False, "required": False,
            "caseExact": False, "mutability": "readOnly", "returned": "default", "uniqueness": "none",
            "description": "A human-readable name of the member, for display only."}


def _cut(schema: dict[str, Any], keep: dict[str, tuple[str, ...] | None]) -> dict[str, Any]:
    schema = copy.deepcopy(schema)
    attributes = []
    for attribute in schema["attributes"]:
        if attribute["name"] not in keep:
            continue
        subs = keep[attribute["name"]]
        if subs is not None:
            known = {s["name"]: s for s in attribute.get("subAttributes", [])}
            attribute["subAttributes"] = [known.get(name) or dict(_DISPLAY) for name in subs]
        attributes.append(attribute)
    schema["attributes"] = attributes
    return schema


def _load(name: str) -> dict[str, Any]:
    return json.loads((_CORE / f"{name}.json").read_text())


def _group_schema() -> dict[str, Any]:
    schema = _cut(_load("Group"), GROUP_ATTRIBUTES)
    for attribute in schema["attributes"]:
        if attribute["name"] == "displayName":
            attribute["mutability"] = "readOnly"
    return schema


SCHEMAS = {s["id"]: s for s in (_cut(_load("User"), USER_ATTRIBUTES), _group_schema())}

RESOURCE_TYPES = {
    "User": {"name": "User", "endpoint": "/Users", "description": "A member of this account",
             "schema": constants.SchemaURI.USER},
    "Group": {"name": "Group", "endpoint": "/Groups",
              "description": "A role of this account (ids admin and member)",
              "schema": constants.SchemaURI.GROUP},
}


def _location(request: Any, name: str, key: str) -> str:
    return str(request.build_absolute_uri(reverse(name, kwargs={"uuid": key})))


def schema(request: Any, schema_id: str) -> dict[str, Any] | None:
    """The published Schema resource ``schema_id``, or None."""
    found = SCHEMAS.get(schema_id)
    if found is None:
        return None
    doc = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"], **copy.deepcopy(found)}
    doc["meta"] = {"resourceType": "Schema", "location": _location(request, "scim:schemas", schema_id)}
    return doc


def resource_type(request: Any, type_id: str) -> dict[str, Any] | None:
    """The published ResourceType ``type_id`` (its endpoint relative to the base URL), or None."""
    found = RESOURCE_TYPES.get(type_id)
    if found is None:
        return None
    return {"schemas": [constants.SchemaURI.RESOURCE_TYPE], "id": type_id, **found,
            "meta": {"resourceType": "ResourceType",
                     "location": _location(request, "scim:resource-types", type_id)}}
