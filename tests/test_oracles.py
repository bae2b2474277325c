"""Issue 22 item 4: no oracles.

The Django admin's sign-in answers every failure alike; sign-up and sign-in do the same
password-hashing work whether or not the address or user exists (timings are measured in
bench/oracles.py, recorded in docs/RELIABILITY.md; here the hasher's calls are counted); the
closure form is behind the sign-in limiter; API-key failures limit failures, not successes.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher

from accounts.models import Account
from tests.conftest import PASSWORD, host_client
from tests.support.api_support import ApiClient, make_key

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-long-unique-password-42"


@pytest.fixture
def hashes(monkeypatch) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    """Every password hash computed (to store or to check), by the tests' MD5 hasher."""
    calls: list[str] = []
    real = MD5PasswordHasher.encode

    def counting(self, password, salt):  # type: ignore[no-untyped-def]
        calls.append(password)
        return real(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    yield calls


def _hashes_for(hashes: list[str], send) -> int:  # type: ignore[no-untyped-def]
    hashes.clear()
    send()
    return len(hashes)


@pytest.mark.parametrize("known_login, unknown_login", [
    ("alpha-member", "nobody-here"),
    ("member@alpha.test", "nobody@alpha.test"),
])
def test_sign_in_hashes_alike_for_a_wrong_password_and_an_unknown_user(tenant_a, hashes,
                                                                        known_login, unknown_login):
    client = host_client(tenant_a.host)

    def attempt(login: str):  # type: ignore[no-untyped-def]
        return lambda: client.post("/login/", {"login": login, "password": "wrong-password-123"})

    wrong = _hashes_for(hashes, attempt(known_login))
    unknown = _hashes_for(hashes, attempt(unknown_login))
    assert wrong == unknown and wrong >= 1


def test_sign_up_hashes_alike_for_a_known_and_an_unknown_address(platform, tenant_a, hashes):
    client = host_client("localhost")

    def sign_up(email: str):  # type: ignore[no-untyped-def]
        def send() -> None:
            response = client.post("/accounts/signup/", {
                "email": email, "password1": NEW_PASSWORD, "company_name": "Zulu", "first_name": "Z"})
            assert response.status_code == 302, response.content[:500]
        return send

    known = _hashes_for(hashes, sign_up("member@alpha.test"))
    unknown = _hashes_for(hashes, sign_up("brand-new@zulu.test"))
    assert known == unknown and known >= 1


def test_admin_sign_in_answers_every_failure_alike(tenant_a, tenant_b, platform):
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    TOTP.activate(tenant_b.admin.user, generate_totp_secret())
    from accounts.provisioning import add_member

    add_member(tenant_a.account, "bravo-admin")  # a member of A, and a TOTP user
    cases = {
        "wrong password": ("alpha-admin", "not-the-password"),
        "unknown user": ("nobody", PASSWORD),
        "non-member": ("bravo-member", PASSWORD),
        "member, not admin": ("alpha-member", PASSWORD),
        "two-factor user": ("bravo-admin", PASSWORD),
    }
    pages = {}
    for case, (username, password) in cases.items():
        client = host_client(tenant_a.host)
        response = client.post("/admin/login/?next=/admin/", {
            "username": username, "password": password, "next": "/admin/"})
        assert response.status_code == 200, case
        assert "_auth_user_id" not in client.session, case
        pages[case] = [str(e) for e in response.context["form"].non_field_errors()]
    assert len({tuple(v) for v in pages.values()}) == 1, pages


def test_the_closure_form_is_behind_the_sign_in_limiter(tenant_a, settings):
    settings.LOGIN_RATE_LIMIT = 3
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    number = tenant_a.account.account_number
    codes = [admin.post("/console/close/", {"confirm": number, "password": f"guess-{i}"}).status_code
             for i in range(4)]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429
    # The right password is refused too while limited: guessing gains nothing.
    assert admin.post("/console/close/", {"confirm": number, "password": PASSWORD}).status_code == 429
    assert Account.objects.get(pk=tenant_a.account.pk).is_active


def test_api_key_failures_do_not_lock_out_valid_keys_from_the_same_address(tenant_a, settings):
    settings.API_AUTH_FAILURE_LIMIT = 20
    _, good = make_key(tenant_a.admin)
    bad = ApiClient(tenant_a.host, "sk_live_bogus_" + "x" * 30)
    statuses = [bad.get("workspaces/").status_code for _ in range(22)]
    assert statuses[:20] == [401] * 20 and set(statuses[20:]) == {429}
    assert ApiClient(tenant_a.host, good).get("workspaces/").status_code == 200
    assert bad.get("workspaces/").status_code == 429  # failures stay limited
