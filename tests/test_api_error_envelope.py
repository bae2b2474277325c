"""Every API error is the JSON envelope, a database outage (503 with ``Retry-After``) and an
unexpected error (500) included, wherever it happens: in the API view, or in a middleware below
the outage middleware (the tenant lookup of an uncached host). Pages keep their HTML."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from tests.conftest import host_client
from tests.support.api_support import api_for, assert_error


def _refuse(*args: object, **kwargs: object) -> None:
    raise OperationalError("connection failed: connection refused")


@pytest.fixture
def api(tenant_a):  # type: ignore[no-untyped-def]
    client = api_for(tenant_a.admin)
    client.client.raise_request_exception = False
    return client


def test_a_database_outage_in_an_api_view_is_a_json_503(api, monkeypatch):
    monkeypatch.setattr("api.views.WorkspaceViewSet.get_queryset", _refuse)
    response = api.get("workspaces/")
    error = assert_error(response, 503, "unavailable")
    assert response["Retry-After"] == "5"
    assert "OperationalError" not in error["message"] and "refused" not in error["message"]


def test_a_database_outage_before_the_api_view_is_a_json_503(api, tenant_a, monkeypatch):
    monkeypatch.setattr("middleware.tenant.TenantHostMiddleware.__call__",
                        lambda self, request: _refuse())
    assert_error(api.get("workspaces/"), 503, "unavailable")
    page = host_client(tenant_a.host)
    page.raise_request_exception = False
    html = page.get("/")
    assert html.status_code == 503 and html["Content-Type"].startswith("text/html")


def test_an_unexpected_api_error_is_a_json_500(api, tenant_a, monkeypatch):
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("api.views.WorkspaceViewSet.get_queryset", broken)
    error = assert_error(api.get("workspaces/"), 500, "server_error")
    assert "a bug" not in error["message"]
    monkeypatch.setattr("workspaces.views.render", broken)
    page = host_client(tenant_a.host)
    page.raise_request_exception = False
    html = page.get("/")
    assert html.status_code == 500 and html["Content-Type"].startswith("text/html")
