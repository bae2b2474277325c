"""Helpers of the API tests: keys for the fixtures' profiles and clients that send them."""

from __future__ import annotations

from typing import Any

from django.test import Client

from accounts.models import ApiKey, UserProfile


def make_key(profile: UserProfile, name: str = "test key", **fields: Any) -> tuple[ApiKey, str]:
    return ApiKey.create(profile, name, **fields)


class ApiClient:
    """JSON requests to one host with ``Authorization: Token <key>``."""

    def __init__(self, host: str, key: str | None = None) -> None:
        headers = {"HTTP_HOST": host}
        if key is not None:
            headers["HTTP_AUTHORIZATION"] = f"Token {key}"
        self.client = Client(**headers)

    def _send(self, method: str, path: str, data: Any = None) -> Any:
        kwargs: dict[str, Any] = {}
        if data is not None:
            kwargs = {"data": data, "content_type": "application/json"}
        return getattr(self.client, method)(f"/api/v1/{path}", **kwargs)

    def get(self, path: str, data: Any = None) -> Any:
        return self.client.get(f"/api/v1/{path}", data or {})

    def post(self, path: str, data: Any = None) -> Any:
        return self._send("post", path, data if data is not None else {})

    def patch(self, path: str, data: Any) -> Any:
        return self._send("patch", path, data)

    def delete(self, path: str) -> Any:
        return self._send("delete", path)


def api_for(profile: UserProfile, host: str | None = None) -> ApiClient:
    """A client on ``host`` (default: the profile's own tenant host) with a new key."""
    from tenancy.hosts import tenant_host

    _, raw = make_key(profile)
    account = profile.account
    if host is None:
        host = tenant_host(None if account.is_default_account else account.account_number)
    return ApiClient(host, raw)


def assert_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is the API's JSON error shape with ``status`` (and ``code``)."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code
    return body["error"]
