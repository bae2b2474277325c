"""Operations (issue 22, item 6): the sign-in limit while Redis is down, a closed account's
API keys, check_domains' audit events, and audit rows that SQL cannot delete."""

from __future__ import annotations

import logging

import pytest
from django.test import Client, override_settings

from smarter.env import redis_cache
from tenancy.ratelimit import reset_fallback
from tests.conftest import host_client
from tests.support.dns_server import dns_zone  # noqa: F401 - fixture
from tests.support.services import free_port
from tests.test_security_settings import _fail_login, _limited


@pytest.fixture
def redis_down():  # type: ignore[no-untyped-def]
    """The shared cache is django-redis (errors ignored, as configured) on a port where nothing
    listens: every cache call fails as in a Redis outage."""
    reset_fallback()
    with override_settings(CACHES={"default": redis_cache(f"redis://127.0.0.1:{free_port()}/0")}):
        yield
    reset_fallback()


@override_settings(LOGIN_RATE_LIMIT=3, LOGIN_RATE_WINDOW=300)
def test_login_limit_holds_per_process_while_redis_is_down(tenant_a, redis_down, caplog) -> None:  # type: ignore[no-untyped-def]
    username = tenant_a.member.user.username
    with caplog.at_level(logging.WARNING, logger="tenancy.ratelimit"):
        for _ in range(3):
            assert _fail_login(host_client(tenant_a.host), username, "10.0.0.1") == 200
    assert _limited(host_client(tenant_a.host), username, "10.0.0.1")  # even the right password
    assert not _limited(host_client(tenant_a.host), username, "10.0.0.2")
    assert "shared cache unavailable: counting per process (login)" in caplog.text


def test_a_closed_account_s_api_keys_get_json_401_on_its_host(tenant_a) -> None:  # type: ignore[no-untyped-def]
    from lifecycle.closure import close_account
    from tests.support.api_support import ApiClient, make_key

    _, raw = make_key(tenant_a.admin)
    api = ApiClient(tenant_a.host, raw)
    assert api.get("workspaces/").status_code == 200
    close_account(tenant_a.account)
    response = api.get("workspaces/")
    assert response.status_code == 401 and response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"
    # The same answer as on a host that never had an account; without a key, a JSON 404.
    unknown = ApiClient(tenant_a.host.replace(tenant_a.account.account_number, "1111-2222-3333"), raw)
    assert unknown.get("workspaces/").json() == response.json()
    anonymous = host_client(tenant_a.host).get("/api/v1/workspaces/")
    assert anonymous.status_code == 404 and anonymous.json()["error"]["code"] == "not_found"
    assert host_client(tenant_a.host).get("/").status_code == 404  # pages stay HTML 404
    assert b"<html" in host_client(tenant_a.host).get("/").content.lower()


def test_check_domains_audits_only_real_changes(tenant_a, dns_zone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from django.core.management import call_command

    from audit.models import AuditEvent
    from domains.models import Domain
    from tests.test_domains import add_domain, publish

    domain = add_domain(tenant_a)
    publish(dns_zone, domain)

    def events() -> list[AuditEvent]:
        return list(AuditEvent.objects.filter(target_kind="domains.domain", target_id=str(domain.pk),
                                              source="command").order_by("pk"))

    call_command("check_domains")  # pending -> verified: a change
    assert [e.changes["status"] for e in events()] == [["pending", "verified"]]
    for _ in range(3):  # nothing changed but the time of the check
        call_command("check_domains")
    assert len(events()) == 1
    assert Domain.objects.get(pk=domain.pk).last_checked_at is not None
    dns_zone.set(domain.challenge_name, "TXT", "another-token")  # the record goes missing
    call_command("check_domains")
    assert len(events()) == 2 and "failing_since" in events()[-1].changes


@pytest.mark.django_db(transaction=True)  # committed rows; the teardown's flush is a purge
def test_audit_events_cannot_be_deleted_or_truncated_outside_a_purge(tenant_a) -> None:  # type: ignore[no-untyped-def]
    from django.db import DatabaseError, connection, transaction

    from audit.guard import purging
    from audit.models import AuditEvent

    event = AuditEvent.objects.filter(account=tenant_a.account).first()
    assert event is not None
    statements = ["DELETE FROM audit_auditevent WHERE id = %s", "DELETE FROM audit_auditevent"]
    if connection.vendor == "postgresql":
        statements.append("TRUNCATE audit_auditevent")
    for sql in statements:
        with pytest.raises(DatabaseError, match="deleted only by a purge"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [event.pk] if "%s" in sql else None)
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    with pytest.raises(DatabaseError), transaction.atomic():  # cascading from the account too
        tenant_a.account.delete()
    with purging(), connection.cursor() as cursor:  # the purge paths' way
        cursor.execute("DELETE FROM audit_auditevent WHERE id = %s", [event.pk])
    assert not AuditEvent.objects.filter(pk=event.pk).exists()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")  # guarded again after the purge


def _refusals() -> float:
    from tenancy import metrics

    return sum(sample.value for family in metrics.RATE_LIMITED.collect() for sample in family.samples
               if sample.name.endswith("_total"))


def test_invitations_are_not_refused_for_a_redis_outage_and_their_limit_holds_per_process(  # type: ignore[no-untyped-def]
        tenant_a, redis_down, settings, caplog, monkeypatch) -> None:
    """A Redis outage is the platform's, not the client's: invitations are sent (not 429
    "throttled", not counted as refusals for the brute-force alert), and their limit is counted
    per process meanwhile, as the sign-in limit is."""
    import time
    import types

    from allauth.core.internal import ratelimit as allauth_ratelimit

    from tests.support.api_support import api_for

    waits: list[float] = []  # allauth waits for its lock while another request holds it
    monkeypatch.setattr(allauth_ratelimit, "time", types.SimpleNamespace(
        time=time.time, monotonic=time.monotonic, sleep=waits.append))

    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "send_invitation": "2/h/user,3/h/key"}
    api = api_for(tenant_a.admin)
    before = _refusals()
    with caplog.at_level(logging.WARNING, logger="tenancy.ratelimit"):
        for address in ("one@alpha.test", "two@alpha.test"):
            response = api.post("users/", {"email": address})
            assert response.status_code == 202, response.content
    assert waits == []  # no waiting out a lock that cannot be taken
    assert _refusals() == before
    assert "shared cache unavailable: counting per process (allauth)" in caplog.text
    third = api.post("users/", {"email": "three@alpha.test"})  # the per-user limit still holds
    assert third.status_code == 429 and third.json()["error"]["code"] == "throttled"
    assert _refusals() == before + 1


@override_settings(LOGIN_RATE_LIMIT=3, LOGIN_RATE_WINDOW=300)
def test_sign_ins_the_database_could_not_check_are_not_counted_as_failures(tenant_a, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A sign-in during a database outage answers 503 as often as it is tried: the attempt
    counted before the password check is given back, so the person is not locked out once
    the database is back (a client is never blamed for a backend outage)."""
    from django.db import OperationalError

    from accounts.auth_backends import SingleCheckAuthenticationBackend

    def away(*args, **kwargs):  # noqa: ANN002, ANN003
        raise OperationalError("connection refused")

    username = tenant_a.member.user.username
    client = Client(HTTP_HOST=tenant_a.host, raise_request_exception=False)
    with monkeypatch.context() as patched:
        patched.setattr(SingleCheckAuthenticationBackend, "authenticate", away)
        for _ in range(5):
            response = client.post("/login/", {"login": username, "password": "whatever"},
                                   REMOTE_ADDR="10.0.0.9")
            assert response.status_code == 503
    assert not _limited(host_client(tenant_a.host), username, "10.0.0.9")
