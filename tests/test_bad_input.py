"""Bad input is a clear 400 or form error, never a 500 (issue 22, item 7)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from accounts.models import Account, AccountContact, Invitation
from domains.models import Domain
from lifecycle.models import DataExport
from tests.conftest import host_client
from tests.support.api_support import make_key
from tests.support.frontdoor_support import host_and_path, last_mail, links
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


@pytest.mark.parametrize("bad", ["Evil\r\nBcc: victim@example.org", "Tab\there", "Nul\x00", "Esc\x1b[31m",
                                 "alice\u202egnp.exe", "Isolate\u2066x\u2069"])
def test_control_characters_are_refused_in_every_name_field(tenant_a, bad) -> None:  # type: ignore[no-untyped-def]
    from tests.support.api_support import api_for

    api = api_for(tenant_a.admin)
    for path, method, data in [
        ("account/", "patch", {"company_name": bad}),
        ("account/", "patch", {"city": bad}),
        ("contacts/", "post", {"email": "c@alpha.test", "first_name": bad}),
        ("contacts/", "post", {"email": "c@alpha.test", "last_name": bad}),
        ("api-keys/", "post", {"name": bad}),
    ]:
        response = getattr(api, method)(path, data)
        assert response.status_code == 400, (path, data, response.status_code)
        [field] = [k for k in data if k != "email"]
        assert field in response.json()["error"]["fields"], response.json()
    # members are invited (issue 22): a new person names themselves when accepting
    from identity.frontdoor.forms import NewMemberForm

    form = NewMemberForm({"first_name": bad, "last_name": bad, "password1": "x"}, email="new@alpha.test")
    assert {"first_name", "last_name"} <= set(form.errors)
    # the profile's name is shown to the other members of every account the person is in
    named = host_client(tenant_a.host, tenant_a.member.user).post(
        "/accounts/profile/", {"first_name": bad, "last_name": bad})
    assert named.status_code == 400 and {"first_name", "last_name"} <= set(named.context["form"].errors)
    tenant_a.member.user.refresh_from_db()
    assert bad not in (tenant_a.member.user.first_name, tenant_a.member.user.last_name)
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    page = admin.post("/console/account/", {"company_name": bad, "language": "en", "timezone": "UTC",
                                            "currency": "USD"})
    assert page.status_code == 200 and "company_name" in page.context["form"].errors
    signup = host_client("localhost").post("/accounts/signup/", {
        "company_name": bad, "first_name": bad, "last_name": "Zed", "email": "zoe@zeta.test",
        "password1": "a-long-unique-password-42"})
    assert signup.status_code == 200
    assert {"company_name", "first_name"} <= set(signup.context["form"].errors)
    assert bad not in Account.objects.values_list("company_name", flat=True)  # (no NUL in a query)


def test_the_database_refuses_a_multi_line_company_name(tenant_a) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=tenant_a.account.pk).update(company_name="Evil\r\nBcc: x@y.z")
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=tenant_a.account.pk).update(currency="eur")


def test_timezone_currency_and_language_are_chosen_from_lists(tenant_a) -> None:  # type: ignore[no-untyped-def]
    from tests.support.api_support import api_for

    api = api_for(tenant_a.admin)
    for field, bad in [("timezone", "Mars/Olympus"), ("timezone", "<script>"), ("currency", "XYZ"),
                       ("currency", "usd"), ("language", "klingon"), ("language", "e\nn")]:
        response = api.patch("account/", {field: bad})
        assert response.status_code == 400 and field in response.json()["error"]["fields"], (field, bad)
    ok = api.patch("account/", {"timezone": "Europe/Berlin", "currency": "EUR", "language": "de"})
    assert ok.status_code == 200, ok.json()
    account = Account.objects.get(pk=tenant_a.account.pk)
    assert (account.timezone, account.currency, account.language) == ("Europe/Berlin", "EUR", "de")
    page = host_client(tenant_a.host, tenant_a.admin.user).get("/console/account/").content.decode()
    assert '<option value="Europe/Berlin" selected>' in page and '<option value="JPY">' in page
    form = host_client(tenant_a.host, tenant_a.admin.user).post("/console/account/", {
        "company_name": "Alpha", "language": "xx", "timezone": "Nowhere", "currency": "ABC"})
    assert {"language", "timezone", "currency"} <= set(form.context["form"].errors)


# --- mails --------------------------------------------------------------------------------------

def _links_answer(message: Any) -> None:
    """Every link of a mail opens a page on its host (none is a dead end)."""
    for url in links(message):
        host, path = host_and_path(url)
        assert host_client(host).get(path).status_code in (200, 302), url


def test_plain_text_mails_have_no_html_entities(tenant_a) -> None:  # type: ignore[no-untyped-def]
    Account.objects.filter(pk=tenant_a.account.pk).update(company_name='Smith & Sons "Ltd" <UK>')
    email = tenant_a.member.user.email
    host_client(tenant_a.host).post("/accounts/password/reset/", {"email": email})
    message = last_mail(email)
    assert 'Smith & Sons "Ltd" <UK>' in message.body and "&amp;" not in message.body
    assert "&quot;" not in message.body and "&lt;" not in message.body
    assert message.subject.startswith('[Smith & Sons "Ltd" <UK>]'), message.subject
    html = message.alternatives[0][0]
    assert "Smith &amp; Sons" in html and "<UK>" not in html  # the HTML part stays escaped


def test_find_my_accounts_mail_names_the_address(platform, tenant_a) -> None:  # type: ignore[no-untyped-def]
    email = tenant_a.admin.user.email
    host_client("localhost").post("/accounts/find/", {"email": email})
    assert f"which accounts {email} belongs to" in last_mail(email).body


def test_duplicate_sign_up_mail_links_to_find_my_accounts(platform, tenant_a) -> None:  # type: ignore[no-untyped-def]
    email = tenant_a.member.user.email
    host_client("localhost").post("/accounts/signup/", {
        "company_name": "Again", "first_name": "A", "last_name": "B", "email": email,
        "password1": "a-long-unique-password-42"})
    message = last_mail(email)
    assert links(message)[0] == "http://localhost/accounts/find/", message.body
    assert "/password/reset/" not in message.body
    _links_answer(message)


def test_unknown_address_reset_mail_on_a_tenant_host_has_no_dead_link(platform, tenant_a) -> None:  # type: ignore[no-untyped-def]
    host_client(tenant_a.host).post("/accounts/password/reset/", {"email": "stranger@nowhere.test"})
    message = last_mail("stranger@nowhere.test")
    assert "/accounts/signup/" not in message.body and "ask its admin" in message.body
    assert "http://localhost/accounts/find/" in links(message)
    _links_answer(message)
    # On the bare domain, where sign-up is open, the mail offers it.
    host_client("localhost").post("/accounts/password/reset/", {"email": "other@nowhere.test"})
    assert "http://localhost/accounts/signup/" in links(last_mail("other@nowhere.test"))


# --- sign-up ------------------------------------------------------------------------------------

SIGNUP = {"company_name": "Zeta Widgets", "first_name": "Zoe", "last_name": "Zed",
          "email": "zoe@zeta.test", "password1": "a-long-unique-password-42"}


def test_an_over_long_email_at_sign_up_is_a_form_error(platform) -> None:  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    email = "z" * 300 + "@zeta.test"  # 310 characters
    response = host_client("localhost").post("/accounts/signup/", {**SIGNUP, "email": email})
    assert response.status_code == 200 and "email" in response.context["form"].errors
    assert not get_user_model().objects.filter(email__startswith="zzz").exists()
    assert not Account.objects.filter(company_name="Zeta Widgets").exists()


def test_sign_up_limit_counts_valid_sign_ups_only_and_states_the_wait(platform, settings) -> None:  # type: ignore[no-untyped-def]
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/h/ip"}
    client = host_client("localhost")
    for _ in range(4):  # typos: sent back, not counted
        response = client.post("/accounts/signup/", {**SIGNUP, "email": "not-an-address"})
        assert response.status_code == 200 and "email" in response.context["form"].errors
    for n in range(2):
        assert client.post("/accounts/signup/", {**SIGNUP, "email": f"z{n}@zeta.test"}).status_code == 302
    refused = client.post("/accounts/signup/", {**SIGNUP, "email": "z9@zeta.test"})
    assert refused.status_code == 429
    assert "Try again in 60 minutes." in refused.content.decode()
    assert 3590 <= int(refused["Retry-After"]) <= 3600


def test_a_long_company_name_is_truncated_in_the_header_with_the_full_name_in_its_title(tenant_a) -> None:  # type: ignore[no-untyped-def]
    import re

    name = "Very Long Company Name " * 11  # 253 characters
    Account.objects.filter(pk=tenant_a.account.pk).update(company_name=name[:255])
    page = host_client(tenant_a.host, tenant_a.admin.user).get("/console/").content.decode()
    [(title, shown)] = re.findall(r'<a class="brand" href="/" title="([^"]*)">([^<]*)</a>', page)
    assert title == name[:255]
    assert len(shown) <= 40 and shown.endswith("…") and name.startswith(shown[:-1])


@pytest.mark.parametrize("bad", ["📞 555 0100", "call me", "+1 555", "+1 415 555 0100 ☎", "555\u202e0100"])
def test_phone_numbers_are_phone_numbers(tenant_a, bad) -> None:  # type: ignore[no-untyped-def]
    """The account's and the contacts' numbers (API and console): international ones must be
    possible for their country; others hold digits and separators only."""
    from tests.support.api_support import api_for

    api = api_for(tenant_a.admin)
    for path, method, data in [("account/", "patch", {"phone_number": bad}),
                               ("contacts/", "post", {"email": "p@alpha.test", "phone": bad})]:
        response = getattr(api, method)(path, data)
        assert response.status_code == 400, (path, response.status_code)
        [field] = [k for k in data if k != "email"]
        assert field in response.json()["error"]["fields"]
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    page = admin.post("/console/account/", {"company_name": "Alpha", "phone_number": bad, "language": "en",
                                            "timezone": "UTC", "currency": "USD"})
    assert page.status_code == 200 and "phone_number" in page.context["form"].errors


@pytest.mark.parametrize("good", ["+1 415 555 0100", "+49 30 901820", "(415) 555-0100 x 12", "030 1234567"])
def test_phone_numbers_people_write_are_kept(tenant_a, good) -> None:  # type: ignore[no-untyped-def]
    from tests.support.api_support import api_for

    response = api_for(tenant_a.admin).patch("account/", {"phone_number": good})
    assert response.status_code == 200 and response.json()["phone_number"] == good
