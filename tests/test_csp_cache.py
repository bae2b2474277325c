"""The CSP header of a plain response is built once per process (middleware/csp.py) and is
exactly what django-csp builds; a response that used a nonce, or a view's override, still
gets its own policy from the library."""

from __future__ import annotations

from csp.constants import HEADER
from csp.decorators import csp_update
from csp.middleware import CSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory

from middleware.csp import CachedPolicyCSPMiddleware


def _both(view):  # type: ignore[no-untyped-def]
    """The header from the library's middleware and from the cached one, for one view."""
    out = []
    for middleware in (CSPMiddleware(view), CachedPolicyCSPMiddleware(view)):
        out.append(middleware(RequestFactory().get("/")).get(HEADER))
    return out


def test_plain_response_gets_the_librarys_policy(settings):
    library, cached = _both(lambda request: HttpResponse("ok"))
    assert cached == library and "default-src 'self'" in cached and "nonce-" not in cached


def test_a_nonce_used_by_the_page_is_in_its_header():
    def page(request):  # type: ignore[no-untyped-def]
        return HttpResponse(f"<script nonce='{request.csp_nonce}'></script>")

    middleware = CachedPolicyCSPMiddleware(page)
    first = middleware(RequestFactory().get("/"))
    second = middleware(RequestFactory().get("/"))
    nonce = first.content.decode().split("'")[1]
    assert f"'nonce-{nonce}'" in first[HEADER]
    assert first[HEADER] != second[HEADER]  # a fresh nonce per response, never cached


def test_view_overrides_and_settings_changes_are_honoured(settings):
    @csp_update({"img-src": ["https://images.example"]})
    def page(request):  # type: ignore[no-untyped-def]
        return HttpResponse("ok")

    library, cached = _both(page)
    assert cached == library and "https://images.example" in cached
    plain = CachedPolicyCSPMiddleware(lambda request: HttpResponse("ok"))
    assert "https://cdn.example" not in plain(RequestFactory().get("/"))[HEADER]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'self'", "https://cdn.example"]}}
    assert "https://cdn.example" in plain(RequestFactory().get("/"))[HEADER]
