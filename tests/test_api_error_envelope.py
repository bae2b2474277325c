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


REFUSED = ('connection failed: connection to server at "10.0.0.5", port 5432 failed: Connection refused\n'
           '\tIs the server running on that host and accepting TCP/IP connections?')
TOO_MANY = ('connection failed: connection to server at "10.0.0.5", port 5432 failed: FATAL:  too many '
            'connections for role "app"')


@pytest.mark.parametrize("where", ["view", "middleware"])
@pytest.mark.parametrize(("message", "says"), [(REFUSED, "Connection refused"),
                                               (TOO_MANY, "too many connections for role")])
def test_the_outage_log_line_says_why_the_database_is_unavailable(api, monkeypatch, caplog,
                                                                  where, message, says):
    """Refused and too many connections call for different remedies: the one log line of the
    503 says which (the error's class and first line), the answer does not."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise OperationalError(message)

    if where == "view":
        monkeypatch.setattr("api.views.WorkspaceViewSet.get_queryset", refuse)
    else:
        monkeypatch.setattr("middleware.tenant.TenantHostMiddleware.__call__",
                            lambda self, request: refuse())
    response = api.get("workspaces/")
    assert says not in assert_error(response, 503, "unavailable")["message"]
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("database unavailable")]
    assert line.startswith("database unavailable: OperationalError: connection failed: ")
    assert says in line and "Is the server running" not in line  # the first line only


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
