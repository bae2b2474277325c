"""Pins the behaviour of django-allauth's private functions the project relies on
(``accounts.allauth_compat``): an allauth upgrade that changes one fails here by name, not as
a sign-in that silently lets too much or too little through."""

from __future__ import annotations

import inspect

import pyotp
import pytest
from allauth.account.models import EmailAddress
from allauth.core import context
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from accounts import allauth_compat as compat

User = get_user_model()


def _request(user=None, ip: str = "203.0.113.7"):  # type: ignore[no-untyped-def]
    request = RequestFactory().post("/login/", REMOTE_ADDR=ip)
    request.session = SessionStore()
    request.user = user
    return request


def test_rates_are_parsed_per_client_address_and_per_key():
    rates = compat.get_rates(app="allauth.account", action="x", config={"x": "10/m/ip,5/300s/key"})
    assert rates == [compat.Rate(10, 60, "ip"), compat.Rate(5, 300, "key")]


def test_cache_keys_tell_clients_and_keys_apart():
    ip, key = compat.Rate(10, 60, "ip"), compat.Rate(5, 300, "key")
    one, other = _request(ip="203.0.113.7"), _request(ip="203.0.113.8")
    assert (compat.get_cache_key(one, app="a", action="x", rate=ip)
            == compat.get_cache_key(_request(ip="203.0.113.7"), app="a", action="x", rate=ip))
    assert compat.get_cache_key(one, app="a", action="x", rate=ip) != compat.get_cache_key(
        other, app="a", action="x", rate=ip)
    assert compat.get_cache_key(one, app="a", action="x", rate=key, key="a@x.test") != compat.get_cache_key(
        one, app="a", action="x", rate=key, key="b@x.test")


def test_users_are_found_by_address_case_insensitively_and_a_verified_owner_wins(db):
    plain = User.objects.create(username="plain", email="shared@example.test")  # stored lower-case
    proven = User.objects.create(username="proven", email="")
    EmailAddress.objects.create(user=proven, email="shared@example.test", verified=True, primary=True)
    # a sign-in by address goes to the verified owner only, whoever else typed it as theirs
    found = compat.filter_users_by_email("SHARED@example.test", prefer_verified=True, for_login=True)
    assert found == [proven]
    assert set(compat.filter_users_by_email("shared@EXAMPLE.test")) == {plain, proven}
    assert compat.get_user_by_username("PLAIN") == plain and compat.get_user_by_username("nobody") is None


def test_authentication_records_are_kept_in_the_session_and_cleared(db):
    user = User.objects.create(username="rec")
    request = _request(user)
    assert compat.authentication_records(_request(None), None) == []
    compat.record_authentication(request, user, method="handoff")
    records = compat.authentication_records(request, user)
    assert [r["method"] for r in records] == ["handoff"] and isinstance(records[0]["at"], float)
    compat.clear_login(request)
    assert compat.authentication_records(request, user) == []


def test_a_pending_totp_secret_is_kept_and_codes_are_checked(db):
    request = _request()
    with context.request_context(request):
        first = compat.pending_totp_secret()
        assert compat.pending_totp_secret() == first
    user = User.objects.create(username="totp")
    secret = generate_totp_secret()
    authenticator = TOTP.activate(user, secret).instance
    assert compat.totp_code_is_valid(authenticator, pyotp.TOTP(secret).now())
    assert not compat.totp_code_is_valid(authenticator, "000000" if pyotp.TOTP(secret).now() != "000000"
                                         else "111111")


@pytest.mark.parametrize(("name", "parameters"), [
    ("allauth.account.internal.flows.login.perform_login", ["request", "login"]),
    ("allauth.account.internal.flows.signup.complete_signup",
     ["request", "user", "email_verification", "redirect_url", "signal_kwargs", "by_passkey"]),
])
def test_the_login_flows_keep_the_signatures_the_project_calls(name, parameters):
    module, _, attr = name.rpartition(".")
    function = getattr(__import__(module, fromlist=[attr]), attr)
    assert list(inspect.signature(function).parameters)[:len(parameters)] == parameters


def test_allauth_rate_limits_count_in_the_shared_or_local_cache():
    """allauth's limits read their module's ``cache`` (its lock, its histories): the project
    replaces it with the one that counts per process while Redis is down."""
    from allauth.core.internal import ratelimit

    from tenancy.ratelimit import shared_or_local

    assert ratelimit.cache is shared_or_local
    source = inspect.getsource(ratelimit._consume_single_rate) + inspect.getsource(ratelimit.cache_lock)
    assert "cache.add(" in source and "cache.get(" in source and "cache.set(" in source
