"""django-scim2's hooks, scoped to the request's account: the User and Group adapters (SCIM
resource <-> membership), the base location, the service provider's configuration, and the
filters every lookup gets (``settings.SCIM_SERVICE_PROVIDER`` names them)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django_scim import constants, exceptions
from django_scim.adapters import SCIMGroup, SCIMUser
from django_scim.models import SCIMServiceProviderConfig

from accounts.models import UserProfile

from . import provisioning
from .filters import RoleGroupFilter, ScimUserFilter
from .groups import RoleGroup
from .models import ScimUser


def user_model() -> type[ScimUser]:
    return ScimUser


def base_location(request: Any = None, *args: Any, **kwargs: Any) -> str:
    """The request's own host (scheme and port as the client used them)."""
    return str(request.build_absolute_uri("/"))


def account_filter_getter(model: Any) -> Callable[..., dict[str, Any]]:
    """Every SCIM user lookup is narrowed to the request's account (groups are the roles)."""
    def kwargs(request: Any, *args: Any, **kw: Any) -> dict[str, Any]:
        return {"account_id": request.account.pk} if model is ScimUser else {}
    return kwargs


def queryset_post_processor_getter(model: Any) -> Callable[..., Any]:
    def process(request: Any, qs: Any, *args: Any, **kwargs: Any) -> Any:
        return qs.select_related("user_profile__user") if model is ScimUser else qs
    return process


def _text(value: Any, name: str, limit: int = 255) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit or any(c in value for c in "\r\n\x00"):
        raise exceptions.BadRequestError(f"{name} must be a single line of at most {limit} characters.",
                                         scim_type="invalidValue")
    return value.strip()


def _bool(value: Any, name: str) -> bool:
    """SCIM booleans; some providers (Entra ID) send "True"/"False" strings."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise exceptions.BadRequestError(f"{name} must be a boolean.", scim_type="invalidValue")


def _email(value: Any) -> str:
    """The primary (else first) address of a SCIM ``emails`` value, or a bare address."""
    if isinstance(value, list):
        entries = [e for e in value if isinstance(e, dict)]
        entries.sort(key=lambda e: not e.get("primary"))
        value = entries[0].get("value") if entries else ""
    elif isinstance(value, dict):
        value = value.get("value")
    address = _text(value, "emails", 254).lower()
    if address:
        try:
            validate_email(address)
        except ValidationError:
            raise exceptions.BadRequestError("Invalid email value.", scim_type="invalidValue") from None
    return address


def _operations(operations: Any) -> Iterator[tuple[str, Any, Any]]:
    """``(op, path, value)`` of each PATCH operation (RFC 7644 3.5.2; ``op`` case-insensitive)."""
    if not isinstance(operations, list):
        raise exceptions.BadRequestError("Operations must be a list.")
    for operation in operations:
        if not isinstance(operation, dict):
            raise exceptions.BadRequestError("Each operation must be an object.")
        op = str(operation.get("op", "")).lower()
        if op not in constants.VALID_PATCH_OPS:
            raise exceptions.BadRequestError(f"Unknown PATCH op {op!r}.", scim_type="invalidSyntax")
        yield op, operation.get("path"), operation.get("value")


_NAME_PARTS = {"name.givenname": "given_name", "name.familyname": "family_name",
               "name.formatted": "formatted_name"}
_EMAIL_PATH = re.compile(r'^emails(\[[^\]]*\])?(\.value)?$')


class ScimUserAdapter(SCIMUser):
    """A SCIM User: ``userName``, ``externalId``, ``name``, ``emails``, ``active`` and the
    read-only ``groups`` (the member's role) of one membership."""

    id_field = "scim_id"
    ATTR_MAP = ScimUserFilter.attr_map

    def __init__(self, obj: Any, request: Any = None) -> None:
        super().__init__(obj, request)
        self.changes: dict[str, Any] = {}

    @property
    def display_name(self) -> str:
        """What a member list shows: the displayName sent, else the user's name, else userName."""
        user = self.obj.user_profile.user
        return (self.obj.display_name or f"{user.first_name} {user.last_name}".strip()
                or self.obj.user_name)

    @property
    def groups(self) -> list[dict[str, Any]]:
        """Every member is in the members' group; admins are in the admins' group too."""
        out = []
        for group in RoleGroup.of(self.obj.user_profile.role):
            adapter = RoleGroupAdapter(group, self.request)
            out.append({"value": adapter.id, "$ref": adapter.location, "display": adapter.display_name})
        return out

    def to_dict(self) -> dict[str, Any]:
        """The resource; an attribute without a value is absent (RFC 7643 2.5), never ``""``."""
        profile = self.obj.user_profile
        user = profile.user
        name = {"givenName": user.first_name, "familyName": user.last_name,
                "formatted": self.obj.formatted_name}
        d: dict[str, Any] = {
            "schemas": [constants.SchemaURI.USER],
            "id": self.id,
            "externalId": self.obj.external_id,
            "userName": self.obj.user_name,
            "name": {key: value for key, value in name.items() if value},
            "displayName": self.obj.display_name,
            "emails": [{"value": user.email}] if user.email else [],
            "active": profile.is_active,
            "groups": self.groups,
            "meta": {
                "resourceType": self.resource_type,
                "created": self.obj.created_at.isoformat(),
                "lastModified": max(self.obj.updated_at, profile.updated_at).isoformat(),
                "location": self.location,
            },
        }
        return {key: value for key, value in d.items() if value not in ("", [], {}, None)}

    def validate_dict(self, d: Any) -> None:
        if not isinstance(d, dict):
            raise exceptions.BadRequestError("The body must be a JSON object.")
        if not _text(d.get("userName"), "userName"):
            raise exceptions.BadRequestError("userName is required.", scim_type="invalidValue")

    def from_dict(self, d: dict[str, Any]) -> None:
        """A full replacement (POST, PUT): every attribute given or its empty value."""
        name: dict[str, Any] = d["name"] if isinstance(d.get("name"), dict) else {}
        self.changes = {
            "user_name": _text(d.get("userName"), "userName"),
            "external_id": _text(d.get("externalId"), "externalId"),
            "given_name": _text(name.get("givenName"), "name.givenName", 150),
            "family_name": _text(name.get("familyName"), "name.familyName", 150),
            "formatted_name": _text(name.get("formatted"), "name.formatted"),
            "display_name": _text(d.get("displayName"), "displayName"),
            "email": _email(d.get("emails")),
            "active": _bool(d.get("active", True), "active"),
        }

    obj: Any

    def save(self) -> None:
        if self.obj.pk is None:
            self.obj = provisioning.create_member(self.request.account, self.changes)
        else:
            provisioning.update_member(self.obj, self.changes)
        self.obj = ScimUser.objects.select_related("user_profile__user").get(pk=self.obj.pk)

    def delete(self) -> None:
        provisioning.remove_member(self.obj)

    def handle_operations(self, operations: Any) -> None:
        """RFC 7644 3.5.2 on the attributes above (``op`` case-insensitive; a value without
        ``path`` is a map of paths); attributes this provider does not keep are ignored."""
        for op, path, value in _operations(operations):
            if path is None:
                if op == "remove" or not isinstance(value, dict):
                    raise exceptions.BadRequestError("A path is required here.", scim_type="noTarget")
                for key, item in value.items():
                    self._apply(op, str(key), item)
            else:
                self._apply(op, _text(path, "path", 200), value)
        self.save()

    def _apply(self, op: str, path: str, value: Any) -> None:
        key = path.lower().removeprefix(constants.SchemaURI.USER.lower() + ":")
        if op == "remove":
            value = None
        if key == "active":
            self.changes["active"] = False if value is None else _bool(value, "active")
        elif key == "username":
            if not _text(value, "userName"):
                raise exceptions.BadRequestError("userName is required.", scim_type="invalidValue")
            self.changes["user_name"] = _text(value, "userName")
        elif key == "externalid":
            self.changes["external_id"] = _text(value, "externalId")
        elif key == "displayname":
            self.changes["display_name"] = _text(value, "displayName")
        elif key in _NAME_PARTS:
            self.changes[_NAME_PARTS[key]] = _text(value, path, 150)
        elif key == "name":
            if value is None:  # remove: every part
                self.changes.update(dict.fromkeys(_NAME_PARTS.values(), ""))
            elif not isinstance(value, dict):
                raise exceptions.BadRequestError("name must be an object.", scim_type="invalidValue")
            else:  # add and replace set the sub-attributes given, and keep the others
                for sub, item in value.items():
                    field = _NAME_PARTS.get(f"name.{str(sub).lower()}")
                    if field:
                        self.changes[field] = _text(item, f"name.{sub}", 150)
        elif _EMAIL_PATH.match(key):
            self.changes["email"] = _email(value)


def _member_ids(value: Any, path: str) -> list[str]:
    """The user ids of a members value, or of a ``members[value eq "ID"]`` path."""
    match = re.match(r'^members\[\s*value\s+eq\s+"([^"]+)"\s*\]$', path.strip(), re.IGNORECASE)
    if match:
        return [match.group(1)]
    if value is None:
        return []
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(m, dict) for m in value):
        raise exceptions.BadRequestError("members must be a list of {\"value\": id}.",
                                         scim_type="invalidValue")
    return [str(m.get("value", "")) for m in value]


class RoleGroupAdapter(SCIMGroup):
    """A role as a SCIM Group. ``admin``: the SCIM users who are admins; joining or leaving it
    sets the role. ``member``: every SCIM user of the account; joining or leaving it changes
    nobody's role (a person in both groups is an admin, whatever order they were pushed in)."""

    id_field = "scim_id"
    ATTR_MAP = RoleGroupFilter.attr_map

    @property
    def display_name(self) -> str:
        return str(self.obj.display_name)

    @property
    def is_admins(self) -> bool:
        return bool(self.obj.role == UserProfile.ROLE_ADMIN)

    def _scim_users(self) -> Any:
        return ScimUser.objects.filter(account_id=self.request.account.pk).select_related(
            "user_profile__user")

    @property
    def members(self) -> list[dict[str, Any]]:
        users = self._scim_users()
        if self.is_admins:
            users = users.filter(user_profile__role=UserProfile.ROLE_ADMIN)
        out = []
        for scim_user in users.order_by("scim_id"):
            adapter = ScimUserAdapter(scim_user, self.request)
            out.append({"value": adapter.id, "$ref": adapter.location, "display": adapter.display_name})
        return out

    def to_dict(self) -> dict[str, Any]:
        d = {
            "schemas": [constants.SchemaURI.GROUP],
            "id": self.id,
            "displayName": self.display_name,
            "members": self.members,
            "meta": {"resourceType": self.resource_type, "location": self.location},
        }
        return {key: value for key, value in d.items() if value != []}

    def _users(self, ids: list[str]) -> list[ScimUser]:
        valid = []
        for raw in ids:
            try:
                valid.append(uuid.UUID(raw))
            except ValueError:
                raise exceptions.BadRequestError(f"No such user: {raw}", scim_type="invalidValue") from None
        users = list(self._scim_users().filter(scim_id__in=valid))
        if len(users) != len(set(valid)):
            raise exceptions.BadRequestError("Some members are not users of this account.",
                                             scim_type="invalidValue")
        return users

    def validate_dict(self, d: Any) -> None:
        if not isinstance(d, dict):
            raise exceptions.BadRequestError("The body must be a JSON object.")

    def from_dict(self, d: dict[str, Any]) -> None:
        """PUT: the group's members become exactly those listed."""
        self._replace = self._users(_member_ids(d.get("members") or [], ""))

    def save(self) -> None:
        """Apply a PUT (or a PATCH replace) of the members: in the admins' group, those listed
        become admins and the admins SCIM made that are not listed become members."""
        wanted = getattr(self, "_replace", None)
        if wanted is None or not self.is_admins:
            return
        keep = {u.pk for u in wanted}
        provisioning.make_admins(wanted)
        provisioning.remove_admins([u for u in self._scim_users().filter(admin_by_scim=True)
                                    if u.pk not in keep])

    def delete(self) -> None:
        raise exceptions.NotImplementedError("Groups are the account's roles; they cannot be deleted.")

    def handle_operations(self, operations: Any) -> None:
        """``add``/``remove``/``replace`` members; a display name cannot change."""
        for op, raw_path, value in _operations(operations):
            path = str(raw_path or "")
            if not path and isinstance(value, dict) and "members" in value:
                path, value = "members", value["members"]
            if not path.lower().startswith("members"):
                if path.lower() == "displayname" or (isinstance(value, dict) and "displayName" in value):
                    continue  # the providers' rename of a linked group: the role keeps its name
                raise exceptions.BadRequestError("Only members can change.", scim_type="invalidPath")
            users = self._users(_member_ids(value, path))
            if op == "replace":
                self._replace = users
                self.save()
            elif self.is_admins and op == "add":
                provisioning.make_admins(users)
            elif self.is_admins:
                provisioning.remove_admins(users)


class ServiceProviderConfig(SCIMServiceProviderConfig):
    """What this provider supports (RFC 7643 section 5)."""

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = super().to_dict()
        d.update({
            "patch": {"supported": True},
            "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": True, "maxResults": 200},
            "changePassword": {"supported": False},
            "sort": {"supported": False},
            "etag": {"supported": False},
        })
        return d
