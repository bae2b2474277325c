"""Every response carries the strict Content-Security-Policy and the Permissions-Policy:
pages, the admin, the API (JSON, docs, errors), error pages and the outage page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client

from tests.conftest import host_client
from tests.support.api_support import api_for

REQUIRED = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'",
    "object-src": "'none'", "base-uri": "'self'",
    # the account switcher's and the bare domain's sign-in posts are redirected to a tenant
    # host's hand-off: this deployment's tenant hosts, nothing else
    "form-action": "'self' *.alpha.api.localhost:*",
    "frame-ancestors": "'none'",
}


def _policy(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    header = response["Content-Security-Policy"]
    return {d.split(" ", 1)[0]: d.split(" ", 1)[1] for d in (p.strip() for p in header.split(";")) if d}


def assert_policies(response) -> None:  # type: ignore[no-untyped-def]
    directives = _policy(response)
    for name, value in REQUIRED.items():
        assert directives.get(name) == value, (name, directives)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    permissions = response["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()", "usb=()"):
        assert feature in permissions


def test_pages_admin_api_and_errors_carry_both_policies(platform, tenant_a):
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    anonymous = host_client(tenant_a.host)
    api = api_for(tenant_a.admin)
    responses = {
        "platform home": Client(HTTP_HOST="localhost").get("/"),
        "tenant home": anonymous.get("/"),
        "login": anonymous.get("/login/"),
        "console": admin.get("/console/"),
        "members": admin.get("/console/members/"),
        "admin index": admin.get("/admin/"),
        "admin changelist": admin.get("/admin/accounts/userprofile/"),
        "admin login": anonymous.get("/admin/login/"),
        "api json": api.get("account/"),
        "api 401": anonymous.get("/api/v1/account/"),
        "api 404": api.get("no-such-endpoint/"),
        "api docs": anonymous.get("/api/v1/docs/"),
        "api docs script": anonymous.get("/api/v1/docs/", {"script": ""}),
        "api schema": anonymous.get("/api/v1/schema/"),
        "404 page": anonymous.get("/no-such-page/"),
        "unknown tenant": Client(HTTP_HOST="9999-9999-9999.alpha.api.localhost").get("/"),
        "malformed host": Client(HTTP_HOST="bad..host.localhost").get("/"),
        "healthz": Client().get("/healthz"),
    }
    expected = {"api 401": 401, "api 404": 404, "404 page": 404, "unknown tenant": 404,
                "malformed host": 400, "admin index": 200}
    for name, response in responses.items():
        assert response.status_code == expected.get(name, 200), (name, response.status_code)
        assert_policies(response)


def test_the_docs_page_has_no_inline_code_and_no_cdn(tenant_a):
    response = host_client(tenant_a.host).get("/api/v1/docs/")
    body = response.content.decode()
    assert "<style" not in body and "style=" not in body
    assert "<script>" not in body  # every script has a src...
    assert "/api/v1/docs/?script=" in body  # ...the start-up script included
    assert "//cdn" not in body and "https://" not in body  # the sidecar's same-origin assets
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in body


def test_the_outage_page_carries_both_policies(tenant_a, monkeypatch):
    client = host_client(tenant_a.host)
    client.raise_request_exception = False

    def down(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("connection refused")

    monkeypatch.setattr("middleware.tenant.get_cached_account_by_number", down)
    response = client.get("/")
    assert response.status_code == 503
    assert_policies(response)
    assert "<style" not in response.content.decode()


TEMPLATES = sorted((Path(__file__).resolve().parent.parent / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_project_templates_have_no_inline_script_or_style(template: Path):
    source = template.read_text()
    assert "<style" not in source and "style=" not in source
    assert not re.search(r"<script(?![^>]*\bsrc=)", source)  # only <script src=...>
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", source)  # no onclick= and the like
    assert "javascript:" not in source
