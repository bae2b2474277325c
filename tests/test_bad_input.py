"""Bad input is a clear 400 or form error, never a 500 (issue 22, item 7)."""

from __future__ import annotations

import threading
import time
from typing import Any

from accounts.models import AccountContact, Invitation
from domains.models import Domain
from lifecycle.models import DataExport
from tests.api_support import make_key
from tests.conftest import host_client
from workspaces.models import Workspace

NESTED = "[" * 3000 + "]" * 3000


def test_deeply_nested_json_is_a_400_on_every_api_endpoint(tenant_a, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_RATE_LIMIT = "100000/minute"
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "send_invitation": False}
    _, raw = make_key(tenant_a.admin)
    other_key, _ = make_key(tenant_a.member, name="member key")
    domain = Domain(user_profile=tenant_a.admin, hostname="app.alpha-corp.test")
    domain.save()
    invitation, _ = Invitation.issue(tenant_a.account, "nested@alpha.test", "member")
    ids = {
        "invitations": invitation.pk,
        "contacts": AccountContact.objects.filter(account=tenant_a.account).first().pk,
        "users": tenant_a.member.pk,
        "workspaces": Workspace.objects.create(user_profile=tenant_a.admin, name="t").pk,
        "api-keys": other_key.pk, "domains": domain.pk,
        "exports": DataExport.objects.create(account=tenant_a.account, requested_by=tenant_a.admin).pk,
    }
    client = host_client(tenant_a.host)
    auth = {"HTTP_AUTHORIZATION": f"Token {raw}"}
    schema = client.get("/api/v1/schema/?format=json", **auth).json()
    tried, parsed = [], 0
    for path, operations in schema["paths"].items():
        for method in ("post", "put", "patch"):
            if method not in operations:
                continue
            url = path.replace("{id}", str(ids.get(path.split("/")[3], 1)))
            response = getattr(client, method)(url, NESTED, content_type="application/json", **auth)
            tried.append((method, path))
            if "requestBody" not in operations[method]:  # the body is never read
                assert response.status_code < 500, (method, url, response.status_code)
                continue
            assert response.status_code == 400, (method, url, response.status_code)
            assert "nested too deeply" in response.json()["error"]["message"], response.json()
            parsed += 1
    assert parsed >= 12, tried


class SlowCache:
    """The shared cache with a network round trip's latency on every call (as Redis has)."""

    def __init__(self, cache: Any) -> None:
        self._cache = cache

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._cache, name)
        if not callable(attr):
            return attr

        def slow(*args: Any, **kwargs: Any) -> Any:
            time.sleep(0.001)
            return attr(*args, **kwargs)

        return slow


def test_api_rate_limit_never_lets_more_than_the_limit_through_concurrently(monkeypatch, settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.cache import cache
    from rest_framework.test import APIRequestFactory

    from api.throttling import ApiKeyRateThrottle

    settings.API_RATE_LIMIT = "100/minute"
    monkeypatch.setattr(ApiKeyRateThrottle, "cache", SlowCache(cache))
    monkeypatch.setattr(ApiKeyRateThrottle, "timer", lambda self: 1_000_020.0)  # one window
    monkeypatch.setattr(ApiKeyRateThrottle, "get_cache_key", lambda self, r, v: "throttle:api:key:sk_test")
    request = APIRequestFactory().get("/api/v1/workspaces/")
    allowed: list[bool] = []
    barrier = threading.Barrier(12)

    def client() -> None:
        barrier.wait()
        for _ in range(25):
            allowed.append(ApiKeyRateThrottle().allow_request(request, None))

    threads = [threading.Thread(target=client) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(allowed) == 300 and sum(allowed) == 100
