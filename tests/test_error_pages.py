"""Friendly error pages with DEBUG off: right status, our template, no traceback or internals."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from tests.conftest import host_client

LEAKS = ("Traceback", "File \"", "django.", "Exception", "SECRET_KEY", "DisallowedHost",
         "Http404", "PermissionDenied", "RuntimeError", "kaboom", "settings.py")


def _friendly(response, status: int, title: str) -> str:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    body = response.content.decode()
    assert f"<h1>{title}</h1>" in body and f"Error {status}" in body
    for leak in LEAKS:
        assert leak not in body, leak
    return body


def test_debug_is_off_in_tests():
    assert settings.DEBUG is False


@pytest.mark.parametrize("host", ["bad..host.localhost", "a" * 64 + ".localhost",
                                  "evil.example.com", "xn--zz.localhost"])
def test_400_for_malformed_hosts(platform, host):
    client = Client(HTTP_HOST=host)
    _friendly(client.get("/"), 400, "Bad request")


def test_a_rejected_host_is_logged_in_one_warning_line(platform, caplog):
    """Django logs it at ERROR with a traceback; scanners would flood the logs."""
    with caplog.at_level("INFO"):
        Client(HTTP_HOST="evil.example.com").get("/")
    records = [r for r in caplog.records if r.name == "django.security.DisallowedHost"]
    assert [(r.levelname, r.exc_info) for r in records] == [("WARNING", None)]
    assert "evil.example.com" in records[0].getMessage()


def test_403_for_a_member_on_the_console(tenant_a):
    body = _friendly(host_client(tenant_a.host, tenant_a.member.user).get("/console/"),
                     403, "Forbidden")
    assert tenant_a.account.company_name in body  # rendered inside the tenant's layout


@pytest.mark.parametrize("host_kind", ["platform", "tenant", "unknown-account", "unknown-workspace"])
def test_404_pages(platform, tenant_a, host_kind):
    host = {
        "platform": "localhost",
        "tenant": tenant_a.host,
        "unknown-account": "9999-9999-9999.alpha.api.localhost",
        "unknown-workspace": tenant_a.workspace_host("nowhere"),
    }[host_kind]
    path = "/no/such/page/" if host_kind in ("platform", "tenant") else "/"
    _friendly(host_client(host).get(path), 404, "Not found")


def test_500_page_has_no_traceback(tenant_a, monkeypatch):
    import workspaces.views as views

    def kaboom(*args, **kwargs):
        raise RuntimeError("kaboom: secret internals")

    monkeypatch.setattr(views, "render", kaboom)
    client = host_client(tenant_a.host)
    client.raise_request_exception = False
    _friendly(client.get("/"), 500, "Something went wrong")


def test_csrf_failure_page_is_friendly(tenant_a):
    client = Client(HTTP_HOST=tenant_a.host, enforce_csrf_checks=True)
    client.force_login(tenant_a.admin.user)
    response = client.post("/console/contacts/", {"email": "x@y.test"})
    body = _friendly(response, 403, "Forbidden")
    assert "refresh" in body.lower()
