"""SCIM's endpoints: django-scim2's views with this provider's protocol rules on top.

``ScimProtocol`` is the one place every /scim/v2/ response passes: errors are SCIM error
documents with a string ``status`` (RFC 7644 3.12), including 404 and 405; a body nested too
deeply to parse is a 400, never a 500; ``attributes``/``excludedAttributes`` (RFC 7644
3.4.2.5, 3.4.3, 3.9) select what a returned resource holds. The discovery endpoints publish
``identity.scim.schemas``; Groups are not rows, so their lookups are overridden here.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any, cast

from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import View
from django_scim import constants, exceptions
from django_scim import views as scim_views
from django_scim.settings import scim_settings

from . import attributes, schemas
from .auth import scim_error
from .groups import RoleGroup

logger = logging.getLogger(__name__)


class ScimProtocol:
    """Errors, body parsing and attribute selection for every SCIM view (see the module)."""

    request: Any

    @method_decorator(csrf_exempt)
    @method_decorator(scim_settings.AUTH_CHECK_MIDDLEWARE)
    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = View.dispatch(self, request, *args, **kwargs)  # type: ignore[arg-type]
            return self._select_attributes(request, cast(HttpResponse, response))
        except exceptions.SCIMException as exc:
            return scim_error(exc.status, exc.detail, exc.scim_type)
        except RecursionError:
            return scim_error(400, "The request is nested too deeply.", "invalidSyntax")
        except Exception:
            logger.exception("SCIM request failed")
            return scim_error(500, "The SCIM request could not be completed.")

    def http_method_not_allowed(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        allowed = ", ".join(m.upper() for m in self._allowed_methods())  # type: ignore[attr-defined]
        return scim_error(405, f"{request.method} is not supported here.", Allow=allowed)

    def load_body(self, body: bytes) -> Any:
        """The JSON body, which must be an object (django-scim2 would fail on an array)."""
        try:
            data = scim_views.SCIMView.load_body(self, body)  # type: ignore[arg-type]
        except RecursionError:
            raise exceptions.BadRequestError("The body is nested too deeply.",
                                             scim_type="invalidSyntax") from None
        if not isinstance(data, dict):
            raise exceptions.BadRequestError("The body must be a JSON object.", scim_type="invalidSyntax")
        return data

    def _select_attributes(self, request: Any, response: HttpResponse) -> HttpResponse:
        if not 200 <= response.status_code < 300 or not response.content:
            return response
        wanted = request.GET.get("attributes")
        unwanted = request.GET.get("excludedAttributes")
        if request.method == "POST" and request.path.endswith("/.search"):
            body = self.load_body(request.body)
            wanted, unwanted = body.get("attributes", wanted), body.get("excludedAttributes", unwanted)
        if wanted is None and unwanted is None:
            return response
        doc = attributes.select_document(json.loads(response.content), wanted, unwanted)
        response.content = json.dumps(doc).encode()
        return response


def _list_response(resources: list[dict[str, Any]]) -> HttpResponse:
    doc = {"schemas": [constants.SchemaURI.LIST_RESPONSE], "totalResults": len(resources),
           "itemsPerPage": len(resources), "startIndex": 1, "Resources": resources}
    return HttpResponse(json.dumps(doc), content_type=constants.SCIM_CONTENT_TYPE)


def _one(doc: dict[str, Any] | None, key: str) -> HttpResponse:
    if doc is None:
        raise exceptions.NotFoundError(key)
    return HttpResponse(json.dumps(doc), content_type=constants.SCIM_CONTENT_TYPE)


class UserSearchView(ScimProtocol, scim_views.UserSearchView):
    """POST Users/.search."""


class UsersView(ScimProtocol, scim_views.UsersView):
    """django-scim2's Users endpoint; an id that is not a UUID is simply not found (404)."""

    def get_object(self) -> Any:
        raw = self.kwargs.get(self.lookup_url_kwarg) or ""
        try:
            uuid.UUID(raw)
        except ValueError:
            raise exceptions.NotFoundError(raw) from None
        return super().get_object()


class GroupsView(ScimProtocol, scim_views.GroupsView):
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


class ServiceProviderConfigView(ScimProtocol, scim_views.ServiceProviderConfigView):
    """GET ServiceProviderConfig."""


class ResourceTypesView(ScimProtocol, scim_views.SCIMView):
    """GET ResourceTypes (a ListResponse) and ResourceTypes/<id> (RFC 7644 4)."""

    http_method_names = ["get"]

    def get(self, request: Any, uuid: str | None = None, *args: Any, **kwargs: Any) -> HttpResponse:
        if uuid:
            return _one(schemas.resource_type(request, uuid), uuid)
        return _list_response([schemas.resource_type(request, key) or {}
                               for key in sorted(schemas.RESOURCE_TYPES)])


class SchemasView(ScimProtocol, scim_views.SCIMView):
    """GET Schemas (a ListResponse) and Schemas/<urn> (RFC 7644 4)."""

    http_method_names = ["get"]

    def get(self, request: Any, uuid: str | None = None, *args: Any, **kwargs: Any) -> HttpResponse:
        if uuid:
            return _one(schemas.schema(request, uuid), uuid)
        return _list_response([schemas.schema(request, key) or {} for key in sorted(schemas.SCHEMAS)])


class RootSearchView(ScimProtocol, scim_views.SCIMView):
    """POST /.search across resource types: not supported (RFC 7644 3.4.3 makes it optional;
    3.12: 501). Users/.search searches the users."""

    http_method_names = ["post"]

    def post(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        raise exceptions.NotImplementedError("Search one resource type: POST /Users/.search.")


class UnknownView(ScimProtocol, scim_views.SCIMView):
    """Any other path under /scim/v2/: a SCIM 404, not the site's HTML page."""

    def dispatch_unknown(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponse:
        raise exceptions.NotFoundError(request.path)

    get = post = put = patch = delete = dispatch_unknown
