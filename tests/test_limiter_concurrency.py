"""The sign-in and SCIM failure limiters hold under concurrency: 30 wrong passwords (or SCIM
tokens) sent at once against a limit of 10 get at most 10 answers that tried the secret; the
rest are refused by the limiter. Run against the live server (its threads share the cache:
local memory on the embedded suite, Redis with REDIS_URL), with the secret check slowed a
little so every request is in flight at once, as behind a busy server."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import pytest
from django.contrib.auth.hashers import check_password as real_check_password

from identity.scim.models import ScimToken

PARALLEL, LIMIT = 30, 10


def _slow_checks(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def slow(password, encoded, setter=None, preferred="default"):  # type: ignore[no-untyped-def]
        time.sleep(0.2)
        return real_check_password(password, encoded, setter, preferred)

    monkeypatch.setattr("django.contrib.auth.base_user.check_password", slow)
    monkeypatch.setattr(ScimToken, "matches", lambda self, raw: time.sleep(0.2) or False)


def _parallel(send) -> list[httpx.Response]:  # type: ignore[no-untyped-def]
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(lambda _: send(), range(PARALLEL)))


@pytest.fixture
def port(live_server) -> int:  # type: ignore[no-untyped-def]
    return int(urlsplit(live_server.url).port or 0)


def test_parallel_wrong_passwords_get_at_most_the_limit(transactional_db, tenant_a, port, settings,
                                                        monkeypatch):  # type: ignore[no-untyped-def]
    settings.LOGIN_RATE_LIMIT = LIMIT
    _slow_checks(monkeypatch)
    headers = {"Host": f"{tenant_a.host}:{port}"}

    def send() -> httpx.Response:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as client:
            client.get("/login/")
            return client.post("/login/", data={"login": "alpha-member", "password": "wrong-password-1",
                                                "csrfmiddlewaretoken": client.cookies.get("csrftoken", "")})

    answers = _parallel(send)
    limited = [r for r in answers if r.status_code == 429 or "Too many failed attempts" in r.text]
    tried = [r for r in answers if r not in limited]
    assert all(r.status_code in (200, 429) for r in answers), {r.status_code for r in answers}
    assert len(tried) == LIMIT, f"{len(tried)} wrong passwords were checked against a limit of {LIMIT}"


def test_parallel_wrong_scim_tokens_get_at_most_the_limit(transactional_db, tenant_a, port, settings,
                                                          monkeypatch):  # type: ignore[no-untyped-def]
    settings.API_AUTH_FAILURE_LIMIT = LIMIT
    token, raw = ScimToken.create(tenant_a.account, "okta", tenant_a.admin)
    _slow_checks(monkeypatch)
    headers = {"Host": f"{tenant_a.host}:{port}", "Authorization": f"Bearer {raw[:-4]}xxxx",
               "Accept": "application/scim+json"}

    def send() -> httpx.Response:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=60) as client:
            return client.get("/scim/v2/Users")

    answers = _parallel(send)
    codes = sorted(r.status_code for r in answers)
    assert set(codes) <= {401, 429}, codes
    assert codes.count(401) == LIMIT, f"{codes.count(401)} wrong tokens were checked against {LIMIT}"
