"""SCIM ``filter`` queries, always within the request's account.

Users: django-scim2's parser (scim2-filter-parser) turned into a Django ``Q`` (its Q
transpiler: ``eq`` is case-insensitive, as SCIM's ``userName`` is) instead of the raw SQL of its
default parser, so the ORM, and on SQLite the wall's manager, scopes it. Groups (the two roles):
``displayName eq "..."`` only.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django_scim.filters import FilterQuery
from scim2_filter_parser.transpilers.django_q_object import get_query

from .groups import RoleGroup
from .models import ScimUser


class ScimUserFilter(FilterQuery):
    model_getter = ScimUser  # type: ignore[assignment]
    attr_map = {
        ("userName", None, None): "user_name",
        ("externalId", None, None): "external_id",
        ("id", None, None): "scim_id",
        ("active", None, None): "user_profile__is_active",
        ("emails", "value", None): "user_profile__user__email",
        ("emails", None, None): "user_profile__user__email",
        ("name", "givenName", None): "user_profile__user__first_name",
        ("name", "familyName", None): "user_profile__user__last_name",
    }

    @classmethod
    def search(cls, filter_query: str, request: Any = None) -> Any:
        """The account's SCIM users matching ``filter_query`` (ValueError when it is not valid)."""
        try:
            query = get_query(filter_query, cls.attr_map)
            users = ScimUser.objects.filter(account_id=request.account.pk).filter(query)
        except (AttributeError, KeyError, TypeError, ValidationError) as exc:  # unmapped, or bad id
            raise ValueError(f"unsupported filter {filter_query!r}") from exc
        except RecursionError:  # nested deeper than the parser recurses
            raise ValueError("the filter is nested too deeply") from None
        return users.select_related("user_profile__user").order_by("scim_id")


_DISPLAY_NAME = re.compile(r'^\s*displayName\s+eq\s+"((?:[^"\\]|\\.)*)"\s*$', re.IGNORECASE)


class RoleGroupFilter(FilterQuery):
    model_getter = RoleGroup  # type: ignore[assignment]
    attr_map = {("displayName", None, None): "display_name", ("members", "value", None): "members"}

    @classmethod
    def search(cls, filter_query: str, request: Any = None) -> list[RoleGroup]:
        match = _DISPLAY_NAME.match(filter_query or "")
        if match is None:
            raise ValueError('Groups are filtered by displayName eq "..." only')
        wanted = match.group(1).lower()
        return [g for g in RoleGroup.all() if g.display_name.lower() == wanted or g.role == wanted]
