"""Issue 22 item 4: timing oracles of the front door, side by side.

Medians over N requests (interleaved) of: ``/login/`` with a wrong password for a known user
vs. an unknown user (by username and by address), and sign-up with a known vs. an unknown
address, in process through Django's test client with the production password hasher
(PBKDF2), limits lifted so every request does the full work. The wanted figure: medians of
each pair within 10 % (``ratio`` close to 1).

Usage: DATABASE_URL=sqlite:////tmp/oracles.sqlite3 python bench/oracles.py [--quick]
(migrates that database first; any DATABASE_URL works). Prints one JSON object.
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter.settings")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from accounts.models import Account  # noqa: E402
from accounts.provisioning import add_member, ensure_default_account  # noqa: E402
from bench.common import median  # noqa: E402
from tenancy.hosts import tenant_host  # noqa: E402

N = 10 if "--quick" in sys.argv else 30
PASSWORD = "correct-horse-battery-staple"
LIFTED = {
    "PASSWORD_HASHERS": ["django.contrib.auth.hashers.PBKDF2PasswordHasher"],
    "LOGIN_RATE_LIMIT": 10**9,
    "ACCOUNT_RATE_LIMITS": {"login": False, "login_failed": False, "signup": False,
                            "signup_email": False},
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "SECURE_SSL_REDIRECT": False,
}


def timed(send) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    response = send()
    elapsed = (time.perf_counter() - t0) * 1000
    assert response.status_code in (200, 302), response.status_code
    return elapsed


def pair(a, b) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """Medians (ms) of ``a`` and ``b`` sent alternately N times each (after one warm-up)."""
    a(), b()
    times_a, times_b = [], []
    for _ in range(N):
        times_a.append(timed(a))
        times_b.append(timed(b))
    ma, mb = median(times_a), median(times_b)
    return {"a_ms": round(ma, 1), "b_ms": round(mb, 1), "ratio": round(max(ma, mb) / min(ma, mb), 3)}


def main() -> None:
    call_command("migrate", verbosity=0)
    with override_settings(**LIFTED):
        platform, _ = ensure_default_account()
        account = Account.objects.filter(company_name="Oracle Corp").first() or Account.objects.create(
            company_name="Oracle Corp")
        add_member(account, "oracle-member", email="member@oracle.test", password=PASSWORD)
        host = tenant_host(account.account_number)
        login = Client(HTTP_HOST=host)
        signup = Client(HTTP_HOST=settings.ROOT_DOMAIN)
        counter = iter(range(10**9))

        def sign_in(name: str):  # type: ignore[no-untyped-def]
            return lambda: login.post("/login/", {"login": name, "password": "wrong-password-123"})

        def sign_up(email_of):  # type: ignore[no-untyped-def]
            return lambda: signup.post("/accounts/signup/", {
                "email": email_of(), "password1": "a-long-unique-password-42",
                "company_name": "Zulu", "first_name": "Z"})

        result = {
            "requests_per_side": N,
            "login_username_wrong_password_vs_unknown_user": pair(
                sign_in("oracle-member"), sign_in("nobody-here")),
            "login_address_wrong_password_vs_unknown_address": pair(
                sign_in("member@oracle.test"), sign_in("nobody@oracle.test")),
            "signup_known_vs_unknown_address": pair(
                sign_up(lambda: "member@oracle.test"),
                sign_up(lambda: f"new-{next(counter)}-{time.time_ns()}@zulu.test")),
        }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
