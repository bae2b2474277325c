"""SCIM's Users and Groups endpoints (the account's roles), and the console page of SCIM tokens.

The discovery endpoints and the protocol plumbing are django-scim2's views (scim/urls.py),
configured with this app's adapters; Groups are not rows, so their lookups are overridden here.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.http import HttpResponse
from django_scim import exceptions
from django_scim import views as scim_views

from .groups import RoleGroup


class ObjectBody:
    """A request body must be a JSON object (django-scim2 would fail on an array: a 500)."""

    def load_body(self, body: bytes) -> Any:
        data = scim_views.SCIMView.load_body(self, body)  # type: ignore[arg-type]
        if not isinstance(data, dict):
            raise exceptions.BadRequestError("The body must be a JSON object.", scim_type="invalidSyntax")
        return data


class UserSearchView(ObjectBody, scim_views.UserSearchView):
    """POST Users/.search, with a checked body."""


class UsersView(ObjectBody, scim_views.UsersView):
    """django-scim2's Users endpoint; an id that is not a UUID is simply not found (404)."""

    def get_object(self) -> Any:
        raw = self.kwargs.get(self.lookup_url_kwarg) or ""
        try:
            uuid.UUID(raw)
        except ValueError:
            raise exceptions.NotFoundError(raw) from None
        return super().get_object()


class GroupsView(ObjectBody, scim_views.GroupsView):
    """GET (list, one, filter), PUT and PATCH of the two role groups; no create or delete."""

    def get_object(self) -> RoleGroup:
        group = RoleGroup.get(self.kwargs.get(self.lookup_url_kwarg) or "")
        if group is None:
            raise exceptions.NotFoundError(self.kwargs.get(self.lookup_url_kwarg))
        return group

    def get_many(self, request: Any) -> HttpResponse:
        if request.GET.get("filter"):
            return self._search(request, request.GET["filter"], *self._page(request))
        return self._build_response(request, RoleGroup.all(), *self._page(request))

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        raise exceptions.NotImplementedError(
            "Groups are this account's roles (ids admin, member): link your groups to them.")

    def delete(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        raise exceptions.NotImplementedError("Groups are this account's roles; they cannot be deleted.")
