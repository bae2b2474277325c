"""Failed API-key authentications are limited per client address and per real key prefix
(429 in the API's error shape), logged once per window, and bounded in the cache."""

from __future__ import annotations

import logging
import secrets

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from api.authentication import address_key, prefix_key

from .support.api_support import assert_error, make_key

LIMIT = 5
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_limit(settings):  # type: ignore[no-untyped-def]
    settings.API_AUTH_FAILURE_LIMIT = LIMIT
    settings.API_AUTH_FAILURE_WINDOW = 300


def _get(client, host: str, key: str, address: str = "127.0.0.1", **extra: str):  # type: ignore[no-untyped-def]
    return client.get("/api/v1/account/", HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {key}",
                      REMOTE_ADDR=address, **extra)


def _random_key() -> str:
    return f"sk_{secrets.token_hex(6)}.{secrets.token_urlsafe(32)}"


def test_bad_keys_from_one_address_get_429_and_a_good_key_elsewhere_works(tenant_a, client):
    _, good = make_key(tenant_a.admin)
    key, _ = make_key(tenant_a.member)
    guesses = [f"{key.prefix}.{secrets.token_urlsafe(32)}", _random_key(), "not-a-key", "a b"]
    statuses = [_get(client, tenant_a.host, guesses[i % 4], "203.0.113.7").status_code
                for i in range(LIMIT)]
    assert statuses == [401] * LIMIT
    for guess in guesses:
        response = _get(client, tenant_a.host, guess, "203.0.113.7")
        error = assert_error(response, 429, "throttled")
        assert "Too many failed API key attempts" in error["message"]
        assert int(response["Retry-After"]) > 0
    # Failures are limited, not successes: a valid key from the same address (an office
    # behind one NAT) still works, and so does one from another address...
    assert _get(client, tenant_a.host, good, "203.0.113.7").status_code == 200
    assert_error(_get(client, tenant_a.host, _random_key(), "203.0.113.7"), 429)
    # ...and other addresses keep their budget.
    assert _get(client, tenant_a.host, good, "198.51.100.1").status_code == 200
    assert_error(_get(client, tenant_a.host, _random_key(), "198.51.100.2"), 401)


def test_a_throttled_address_costs_one_indexed_key_lookup(tenant_a, client):
    """Past the limit a guess still needs its key looked up (a valid key must keep working):
    one query by prefix, nothing more, and nothing counted."""
    for _ in range(LIMIT):
        _get(client, tenant_a.host, _random_key())
    with CaptureQueriesContext(connection) as queries:
        assert_error(_get(client, tenant_a.host, _random_key()), 429)
    assert len([q for q in queries.captured_queries if "accounts_apikey" in q["sql"]]) <= 1


def test_guessing_one_keys_secret_from_many_addresses_is_limited_per_prefix(tenant_a, client):
    key, good = make_key(tenant_a.admin)
    wrong = [f"{key.prefix}.{secrets.token_urlsafe(32)}" for _ in range(LIMIT + 3)]
    statuses = [_get(client, tenant_a.host, guess, f"192.0.2.{i}").status_code
                for i, guess in enumerate(wrong)]
    assert statuses == [401] * LIMIT + [429] * 3  # each address had failed only once
    # The key's holder is never locked out by others' guesses.
    assert _get(client, tenant_a.host, good, "198.51.100.9").status_code == 200


def test_forwarded_hops_a_client_writes_do_not_escape_the_address_limit(tenant_a, client, settings):
    settings.TRUSTED_PROXIES = 1  # the router appends the real address
    for i in range(LIMIT):
        _get(client, tenant_a.host, _random_key(), "10.0.0.2",
             HTTP_X_FORWARDED_FOR=f"198.18.0.{i}, 203.0.113.50")
    response = _get(client, tenant_a.host, _random_key(), "10.0.0.2",
                    HTTP_X_FORWARDED_FOR="198.18.1.1, 203.0.113.50")
    assert_error(response, 429)
    _, good = make_key(tenant_a.admin)
    other = _get(client, tenant_a.host, good, "10.0.0.2", HTTP_X_FORWARDED_FOR="203.0.113.51")
    assert other.status_code == 200  # the same router, another client


def test_limits_are_logged_once_per_window_not_per_attempt(tenant_a, client, caplog):
    key, _ = make_key(tenant_a.admin)
    with caplog.at_level(logging.INFO, logger="api.authentication"):
        for _ in range(LIMIT * 4):
            _get(client, tenant_a.host, f"{key.prefix}.{secrets.token_urlsafe(32)}", "203.0.113.8")
        for i in range(LIMIT * 2):
            _get(client, tenant_a.host, f"{key.prefix}.{secrets.token_urlsafe(32)}", f"192.0.2.{i}")
    lines = [r.getMessage() for r in caplog.records if r.name == "api.authentication"]
    assert len([m for m in lines if "203.0.113.8 failed" in m]) == 1
    assert len([m for m in lines if f"key {key.prefix} failed" in m]) == 1
    assert len(lines) == 2, lines
    assert all(r.levelname == "WARNING" for r in caplog.records if r.name == "api.authentication")


def test_random_bad_keys_leave_no_counter_per_value(tenant_a, client, settings):
    settings.API_AUTH_FAILURE_LIMIT = 10_000
    guesses = [_random_key() for _ in range(300)]
    for guess in guesses:
        assert _get(client, tenant_a.host, guess, "203.0.113.9").status_code == 401
    # Only the address has a counter; none of the 300 random prefixes got one.
    assert cache.get(address_key("203.0.113.9")) == 300
    assert cache.get_many([prefix_key(g.split(".")[0]) for g in guesses]) == {}
    if hasattr(cache, "keys"):  # django-redis: count what is really in Redis
        assert cache.keys("apikey:fail:*") == [address_key("203.0.113.9")]
