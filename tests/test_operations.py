"""Operations (issue 22, item 6): the sign-in limit while Redis is down, a closed account's
API keys, check_domains' audit events, and audit rows that SQL cannot delete."""

from __future__ import annotations

import logging

import pytest
from django.test import override_settings

from smarter.settings import redis_cache
from tenancy.ratelimit import local_counts
from tests.conftest import host_client
from tests.services import free_port
from tests.test_security_settings import _fail_login, _limited


@pytest.fixture
def redis_down():  # type: ignore[no-untyped-def]
    """The shared cache is django-redis (errors ignored, as configured) on a port where nothing
    listens: every cache call fails as in a Redis outage."""
    local_counts.clear()
    with override_settings(CACHES={"default": redis_cache(f"redis://127.0.0.1:{free_port()}/0")}):
        yield
    local_counts.clear()


@override_settings(LOGIN_RATE_LIMIT=3, LOGIN_RATE_WINDOW=300)
def test_login_limit_holds_per_process_while_redis_is_down(tenant_a, redis_down, caplog) -> None:  # type: ignore[no-untyped-def]
    username = tenant_a.member.user.username
    with caplog.at_level(logging.WARNING, logger="tenancy.ratelimit"):
        for _ in range(3):
            assert _fail_login(host_client(tenant_a.host), username, "10.0.0.1") == 200
    assert _limited(host_client(tenant_a.host), username, "10.0.0.1")  # even the right password
    assert not _limited(host_client(tenant_a.host), username, "10.0.0.2")
    assert "shared cache unavailable: counting failures per process (login)" in caplog.text
