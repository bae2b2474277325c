"""Production settings (in subprocesses: settings are read at import) and the login rate limit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from tests.conftest import PASSWORD, host_client

ROOT = Path(__file__).resolve().parent.parent
PROD_KEY = "k" * 20 + "-Zq9#x2Lm!p7Rt4Vw8Yb3Nc6Fh1Jd5Gs0"  # 50+ chars, varied


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DATABASE_POOL", "REDIS_URL", "SESSION_COOKIE_DOMAIN",
                        "SECURE_SSL_REDIRECT", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DEBUG")}
    env.update(DEBUG="false", SECRET_KEY=PROD_KEY, ROOT_DOMAIN="example.com",
               DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
               DJANGO_SETTINGS_MODULE="smarter.settings")
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_production_cookies_and_csrf_origins(tmp_path: Path) -> None:
    code = ("import json; from django.conf import settings as s; print(json.dumps({k: getattr(s, k) "
            "for k in ['DEBUG', 'SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SESSION_COOKIE_HTTPONLY',"
            " 'SESSION_COOKIE_SAMESITE', 'CSRF_COOKIE_SAMESITE', 'SESSION_COOKIE_DOMAIN',"
            " 'CSRF_COOKIE_DOMAIN', 'CSRF_TRUSTED_ORIGINS', 'SECURE_SSL_REDIRECT',"
            " 'SECURE_HSTS_SECONDS']}))")
    proc = _run([sys.executable, "-c", code], _env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    s = json.loads(proc.stdout.strip().splitlines()[-1])
    assert s["DEBUG"] is False
    assert s["SESSION_COOKIE_SECURE"] and s["CSRF_COOKIE_SECURE"] and s["SESSION_COOKIE_HTTPONLY"]
    assert s["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert s["CSRF_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert s["SESSION_COOKIE_DOMAIN"] is None and s["CSRF_COOKIE_DOMAIN"] is None
    assert s["CSRF_TRUSTED_ORIGINS"] == []  # the request's own origin only (issue 22 item 3)
    assert s["SECURE_SSL_REDIRECT"] is True and s["SECURE_HSTS_SECONDS"] >= 31536000


def test_check_deploy_is_clean_with_production_env(tmp_path: Path) -> None:
    from tests.test_deploy import production_env

    env = _env(tmp_path, DATABASE_URL=production_env(tmp_path)["DATABASE_URL"], EMAIL_TO_LOG="true")
    proc = _run([sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_debug_off_without_secret_key_refuses_to_start(tmp_path: Path) -> None:
    env = _env(tmp_path)
    del env["SECRET_KEY"]
    proc = _run([sys.executable, "manage.py", "check"], env)
    assert proc.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in proc.stderr


def _fail_login(client, username: str, ip: str) -> int:  # type: ignore[no-untyped-def]
    response = client.post("/login/", {"login": username, "password": "wrong-password"},
                           REMOTE_ADDR=ip)
    return response.status_code


def _limited(client, username: str, ip: str) -> bool:  # type: ignore[no-untyped-def]
    response = client.post("/login/", {"login": username, "password": PASSWORD}, REMOTE_ADDR=ip)
    if response.status_code == 302:
        return False
    assert b"Too many failed attempts" in response.content or response.status_code == 200
    return b"Too many failed attempts" in response.content


@override_settings(LOGIN_RATE_LIMIT=3, LOGIN_RATE_WINDOW=300)
@pytest.mark.django_db
def test_login_limit_is_per_account_and_ip(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    a = host_client(tenant_a.host)
    for _ in range(3):
        assert _fail_login(a, tenant_a.member.user.username, "10.0.0.1") == 200
    # The limit holds on A from that IP, even with the right password...
    assert _limited(host_client(tenant_a.host), tenant_a.member.user.username, "10.0.0.1")
    # ...but not for another tenant from the same IP, nor for A from another IP.
    assert not _limited(host_client(tenant_b.host), tenant_b.member.user.username, "10.0.0.1")
    assert not _limited(host_client(tenant_a.host), tenant_a.member.user.username, "10.0.0.2")


@pytest.mark.parametrize(
    ("proxies", "xff", "expected"),
    [
        (0, "203.0.113.7", "10.0.0.254"),  # no trusted proxy: the header is ignored
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "1.1.1.1, 203.0.113.7", "203.0.113.7"),  # left entries are client-supplied
        (2, "198.51.100.1, 203.0.113.7, 10.1.1.1", "203.0.113.7"),
        (1, "", "10.0.0.254"),  # not forwarded: a direct connection
        (2, "203.0.113.7", "10.0.0.254"),  # fewer hops than proxies: not vouched for
        (1, "not-an-ip", "10.0.0.254"),
        (1, "2001:DB8::1", "2001:db8::1"),
    ],
)
def test_client_ip_trusts_only_the_configured_proxies(proxies, xff, expected) -> None:  # type: ignore[no-untyped-def]
    from django.test import RequestFactory

    from tenancy.client_ip import client_ip

    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR=xff)
    with override_settings(TRUSTED_PROXIES=proxies):
        assert client_ip(request) == expected


@override_settings(LOGIN_RATE_LIMIT=3, LOGIN_RATE_WINDOW=300, TRUSTED_PROXIES=1)
@pytest.mark.django_db
def test_login_limit_behind_a_router_is_per_client(tenant_a) -> None:  # type: ignore[no-untyped-def]
    """Behind Heroku's router every request has the router's REMOTE_ADDR: one attacker must
    not lock out everyone, and must not escape the limit by forging X-Forwarded-For."""
    username = tenant_a.member.user.username

    def post(password: str, xff: str) -> bytes:
        response = host_client(tenant_a.host).post(
            "/login/", {"login": username, "password": password},
            REMOTE_ADDR="10.9.9.9", HTTP_X_FORWARDED_FOR=xff,
        )
        return response.content if response.status_code != 302 else b"signed in"

    for _ in range(3):
        post("wrong-password", "203.0.113.66")
    assert b"Too many failed attempts" in post(PASSWORD, "203.0.113.66")
    assert b"Too many failed attempts" in post(PASSWORD, "1.2.3.4, 203.0.113.66")  # forged hop
    assert post(PASSWORD, "198.51.100.5") == b"signed in"  # another client behind the router
