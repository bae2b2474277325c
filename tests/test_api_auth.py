"""API keys as credentials: own account only, revoked/expired/inactive rejected, hashing,
last_used_at, throttling, and the served OpenAPI schema."""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory

from accounts.models import ApiKey
from api.authentication import ApiKeyAuthentication
from tenancy.hosts import tenant_host

from .support.api_support import ApiClient, api_for, assert_error, make_key

API_HOST = f"{settings.ENVIRONMENT}.api.{settings.ROOT_DOMAIN}"
pytestmark = pytest.mark.django_db


def test_valid_key_reads_its_own_tenant(tenant_a):
    response = api_for(tenant_a.member).get("account/")
    assert response.status_code == 200
    assert response.json()["account_number"] == tenant_a.account.account_number


def test_no_credentials_is_401_with_challenge(tenant_a):
    response = ApiClient(tenant_a.host).get("account/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("header", [
    "Token", "Token a b", "Token not-a-key", "Token sk_000000000000.short",
    "Token sk_000000000000.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "Token sk_ZZZZZZZZZZZZ.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
])
def test_malformed_or_unknown_keys_are_401(tenant_a, client, header):
    response = client.get("/api/v1/account/", HTTP_HOST=tenant_a.host, HTTP_AUTHORIZATION=header)
    error = assert_error(response, 401)
    assert error["code"] in {"not_authenticated", "authentication_failed"}


def test_right_prefix_wrong_secret_is_401(tenant_a):
    key, raw = make_key(tenant_a.admin)
    forged = f"{key.prefix}.{'x' * 43}"
    assert_error(ApiClient(tenant_a.host, forged).get("account/"), 401)
    assert ApiClient(tenant_a.host, raw).get("account/").status_code == 200


def test_key_of_another_tenant_is_refused(tenant_a, tenant_b):
    _, raw = make_key(tenant_a.admin)
    for path in ("account/", "users/", "contacts/", "workspaces/", "api-keys/"):
        assert_error(ApiClient(tenant_b.host, raw).get(path), 401)
    response = ApiClient(tenant_b.host, raw).post("workspaces/", {"name": "intruder"})
    assert_error(response, 401)
    assert not tenant_b.account.user_profiles.filter(user__username="intruder").exists()


def test_tenant_key_is_refused_on_the_api_host_and_workspace_hosts_of_others(tenant_a, tenant_b):
    from workspaces.models import Workspace

    Workspace.objects.create(user_profile=tenant_b.admin, name="bteam")
    _, raw = make_key(tenant_a.admin)
    assert_error(ApiClient(API_HOST, raw).get("account/"), 401)
    assert_error(ApiClient(tenant_b.workspace_host("bteam"), raw).get("account/"), 401)


def test_platform_superuser_key_works_on_api_host_only(platform, tenant_a):
    _, raw = make_key(platform.admin)
    response = ApiClient(API_HOST, raw).get("account/")
    assert response.status_code == 200
    assert response.json()["is_default_account"] is True
    assert ApiClient(tenant_host(None), raw).get("account/").status_code == 200
    assert_error(ApiClient(tenant_a.host, raw).get("account/"), 401)


def test_revoked_key_is_401(tenant_a):
    key, raw = make_key(tenant_a.admin)
    api = ApiClient(tenant_a.host, raw)
    assert api.get("account/").status_code == 200
    key.revoke()
    assert_error(api.get("account/"), 401)


def test_expired_key_is_401(tenant_a):
    key, raw = make_key(tenant_a.admin, expires_at=timezone.now() + timedelta(days=1))
    api = ApiClient(tenant_a.host, raw)
    assert api.get("account/").status_code == 200
    ApiKey.objects.filter(pk=key.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(api.get("account/"), 401)


def test_inactive_profile_or_user_key_is_401(tenant_a):
    _, raw = make_key(tenant_a.member)
    api = ApiClient(tenant_a.host, raw)
    assert api.get("account/").status_code == 200
    tenant_a.member.is_active = False
    tenant_a.member.save()
    assert_error(api.get("account/"), 401)
    tenant_a.member.is_active = True
    tenant_a.member.save()
    assert api.get("account/").status_code == 200
    user = tenant_a.member.user
    user.is_active = False
    user.save()
    assert_error(api.get("account/"), 401)


def test_inactive_account_is_not_served_and_its_keys_fail(tenant_a):
    key, raw = make_key(tenant_a.admin)
    api = ApiClient(tenant_a.host, raw)
    account = tenant_a.account
    account.is_active = False
    account.save()
    assert api.get("account/").status_code == 401  # a deactivated tenant: its keys are refused (JSON)
    # Even if a stale account object reached the authentication, the key is refused.
    stale = type(account).objects.get(pk=account.pk)
    stale.is_active = True
    request = APIRequestFactory().get("/api/v1/account/", HTTP_AUTHORIZATION=f"Token {raw}")
    request.account = stale
    from rest_framework.request import Request

    with pytest.raises(exceptions.AuthenticationFailed):
        ApiKeyAuthentication().authenticate(Request(request))


def test_only_a_hash_is_stored_and_the_key_is_never_logged(tenant_a, caplog):
    key, raw = make_key(tenant_a.admin, name="ci")
    stored = ApiKey.objects.filter(pk=key.pk).values().get()
    assert stored["key_hash"] == hashlib.sha256(raw.encode()).hexdigest()
    assert all(raw not in str(value) for value in stored.values())
    secret = raw.split(".", 1)[1]
    assert all(secret not in str(value) for value in stored.values())
    assert raw.startswith(key.prefix + ".")
    with caplog.at_level(logging.DEBUG):
        ApiClient(tenant_a.host, raw).get("account/")
        ApiClient(tenant_a.host, raw[:-1] + ("A" if raw[-1] != "A" else "B")).get("account/")
    assert secret not in caplog.text and secret[:-1] not in caplog.text


def test_prefixes_are_unique_and_keys_differ(tenant_a):
    keys = [make_key(tenant_a.admin) for _ in range(20)]
    assert len({k.prefix for k, _ in keys}) == 20
    assert len({raw for _, raw in keys}) == 20


def test_last_used_at_is_written_at_most_once_a_minute(tenant_a):
    key, raw = make_key(tenant_a.admin)
    assert key.last_used_at is None
    api = ApiClient(tenant_a.host, raw)
    api.get("account/")
    first = ApiKey.objects.get(pk=key.pk).last_used_at
    assert first is not None
    recent = timezone.now() - timedelta(seconds=30)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=recent)
    api.get("account/")
    assert ApiKey.objects.get(pk=key.pk).last_used_at == recent  # not rewritten within a minute
    old = timezone.now() - timedelta(minutes=2)
    ApiKey.objects.filter(pk=key.pk).update(last_used_at=old)
    api.get("account/")
    assert ApiKey.objects.get(pk=key.pk).last_used_at > old


def test_rate_limit_per_key_is_429_and_keyed_by_prefix(tenant_a, settings):
    settings.API_RATE_LIMIT = "3/minute"
    _, raw1 = make_key(tenant_a.admin)
    _, raw2 = make_key(tenant_a.admin)
    first, second = ApiClient(tenant_a.host, raw1), ApiClient(tenant_a.host, raw2)
    assert [first.get("account/").status_code for _ in range(3)] == [200, 200, 200]
    response = first.get("account/")
    assert_error(response, 429, "throttled")
    assert int(response["Retry-After"]) > 0
    assert second.get("account/").status_code == 200  # another key has its own budget


def test_schema_is_served_on_api_and_tenant_hosts(tenant_a):
    for host in (API_HOST, tenant_a.host):
        response = ApiClient(host).get("schema/", {"format": "json"})
        assert response.status_code == 200
        schema = response.json()
        assert schema["openapi"].startswith("3.")
        paths = set(schema["paths"])
        assert {"/api/v1/account/", "/api/v1/contacts/", "/api/v1/contacts/{id}/", "/api/v1/users/",
                "/api/v1/users/batch/", "/api/v1/workspaces/{id}/", "/api/v1/api-keys/{id}/"} <= paths
        assert schema["components"]["securitySchemes"]["ApiKeyAuth"]["in"] == "header"
    docs = ApiClient(tenant_a.host).client.get("/api/v1/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()


def test_unknown_tenant_host_is_404_not_json_leak(db, platform):
    response = ApiClient(tenant_host("0000-0000-0001")).get("account/")
    assert response.status_code == 404
