"""The request edge as one layer (middleware/edge.py): the same headers as the separate
layers gave, written through middleware/headers.py exactly as the public API writes them;
the audit area of a path as before."""

from __future__ import annotations

import pytest
from csp.constants import HEADER
from django.http import HttpResponse
from django.test import RequestFactory
from django_permissions_policy import PermissionsPolicyMiddleware

from middleware.audit import _AREAS, request_source
from middleware.csp import CachedPolicyCSPMiddleware
from middleware.edge import EdgeMiddleware
from middleware.headers import has, put, put_token


def test_headers_written_directly_equal_the_public_apis():
    direct, public = HttpResponse("ok"), HttpResponse("ok")
    put(direct, "Permissions-Policy", "camera=()")
    put_token(direct, "X-Request-ID", "abc-123_x.y")
    public["Permissions-Policy"] = "camera=()"
    public["X-Request-ID"] = "abc-123_x.y"
    assert list(direct.items()) == list(public.items())
    assert direct.serialize_headers() == public.serialize_headers()
    assert has(direct, "x-request-id") and not has(direct, "vary")
    with pytest.raises(Exception, match="newline"):
        put(direct, "X-Bad", "a\nb")  # Django's own checks, once per pair


def test_the_edge_sets_what_the_three_layers_set(settings):
    def view(request):  # type: ignore[no-untyped-def]
        return HttpResponse("ok")

    edge = EdgeMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="proxy-id-12345"))
    layered = PermissionsPolicyMiddleware(CachedPolicyCSPMiddleware(view))(RequestFactory().get("/"))
    for name in ("Content-Security-Policy", "Permissions-Policy"):
        assert edge[name] == layered[name]
    assert edge["X-Request-ID"] == "proxy-id-12345"
    bad = EdgeMiddleware(view)(RequestFactory().get("/", HTTP_X_REQUEST_ID="bad id\n"))
    assert len(bad["X-Request-ID"]) == 32 and bad["X-Request-ID"] != "bad id\n"


def test_a_nonce_and_a_view_override_still_go_through_the_libraries():
    def page(request):  # type: ignore[no-untyped-def]
        response = HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")
        response._permissions_policy_override = "geolocation=(self)"  # the library's decorator
        return response

    response = EdgeMiddleware(page)(RequestFactory().get("/"))
    nonce = response.content.decode().split("'")[1]
    assert f"'nonce-{nonce}'" in response[HEADER]
    assert response["Permissions-Policy"] == "geolocation=(self)"


@pytest.mark.parametrize("path", ["/", "/console", "/console/", "/console/x", "/api/", "/apix/",
                                  "/admin/a", "/scim/v2/", "/accounts/", "/accounts/oidc/",
                                  "/accounts/oidc", "/accounts/saml/x", "/accounts/social/",
                                  "/accounts/socialx/", "//console/"])
def test_request_source_is_the_first_matching_prefix(path):
    expected = next((area for prefix, area in _AREAS if path.startswith(prefix)), "web")
    assert request_source(path) == expected
