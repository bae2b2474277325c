"""Password reset and change on tenant hosts, and "find my accounts" on the bare domain:
identical answers for known and unknown addresses, links on the right host, 429 limits."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from accounts.models import Account, UserProfile
from accounts.provisioning import add_member
from tests.conftest import PASSWORD, host_client
from tests.support.frontdoor_support import (
    assert_mail_is_complete,
    host_and_path,
    last_mail,
    link_with,
    links,
)

NEW_PASSWORD = "another-long-password-77"


def _comparable(response) -> tuple:  # type: ignore[no-untyped-def]
    return response.status_code, response.get("Location")


def test_reset_answers_the_same_for_every_address(tenant_a, tenant_b):
    known, unknown, foreign = (tenant_a.member.user.email, "nobody@nowhere.test",
                               tenant_b.member.user.email)
    answers = {e: host_client(tenant_a.host).post("/accounts/password/reset/", {"email": e})
               for e in (known, unknown, foreign)}
    assert len({_comparable(r) for r in answers.values()}) == 1
    assert answers[known].status_code == 302
    pages = {host_client(tenant_a.host).get(r["Location"]).content for r in answers.values()}
    assert len(pages) == 1
    # Only the member of this account gets a reset link, on this host.
    host, _ = host_and_path(link_with(last_mail(known), "/accounts/password/reset/key/"))
    assert host == tenant_a.host
    assert_mail_is_complete(last_mail(known), tenant_a.account.company_name, tenant_a.host)
    for other in (unknown, foreign):
        assert not [u for u in links(last_mail(other)) if "/password/reset/key/" in u]


def test_reset_link_ignores_forwarded_host_and_signs_in(tenant_a):
    email = tenant_a.member.user.email
    host_client(tenant_a.host).post("/accounts/password/reset/", {"email": email},
                                    HTTP_X_FORWARDED_HOST="evil.example")
    link = link_with(last_mail(email), "/accounts/password/reset/key/")
    assert "evil" not in link
    host, path = host_and_path(link)
    assert host == tenant_a.host
    client = host_client(host)
    form = client.get(path, follow=True)
    assert form.status_code == 200 and 'name="password1"' in form.content.decode()
    response = client.post(form.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/").wsgi_request.user == tenant_a.member.user
    tenant_a.member.user.refresh_from_db()
    assert tenant_a.member.user.check_password(NEW_PASSWORD)
    # The link was for one use.
    assert "password1" not in host_client(host).get(path, follow=True).content.decode()


def test_a_reset_key_works_only_on_the_host_that_issued_it(platform, tenant_a, tenant_b):
    """The key asked for on A's number host opens nothing on A's custom domain (same account),
    on the bare domain or on B's host, and still works where it was issued."""
    from tests.support.domain_support import verified_domain

    verified_domain(tenant_a.admin, "app.alpha-corp.test")
    add_member(tenant_b.account, tenant_a.member.user.username)
    email = tenant_a.member.user.email
    host_client(tenant_a.host).post("/accounts/password/reset/", {"email": email})
    host, path = host_and_path(link_with(last_mail(email), "/accounts/password/reset/key/"))
    assert host == tenant_a.host
    for other in ("app.alpha-corp.test", "localhost", tenant_b.host):
        page = host_client(other).get(path, follow=True)
        assert page.status_code == 200 and 'name="password1"' not in page.content.decode(), other
        posted = host_client(other).post(path.replace(path.split("/")[-2].split("-", 1)[1], "set-password"),
                                         {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
        assert posted.status_code != 302, other
    tenant_a.member.user.refresh_from_db()
    assert tenant_a.member.user.check_password(PASSWORD)
    client = host_client(host)
    form = client.get(path, follow=True)
    assert 'name="password1"' in form.content.decode()
    done = client.post(form.redirect_chain[-1][0], {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    tenant_a.member.user.refresh_from_db()
    assert tenant_a.member.user.check_password(NEW_PASSWORD)


def test_reset_is_rate_limited(tenant_a, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "reset_password": "20/m/ip,2/h/key"}
    client = host_client(tenant_a.host)
    data = {"email": tenant_a.member.user.email}
    assert [client.post("/accounts/password/reset/", data).status_code for _ in range(3)] == [302, 302, 429]


def test_password_change(tenant_a):
    client = host_client(tenant_a.host, tenant_a.member.user)
    page = client.get("/accounts/password/change/")
    assert page.status_code == 200 and 'href="/static/css/site.css"' in page.content.decode()
    assert tenant_a.account.company_name in page.content.decode()
    response = client.post("/accounts/password/change/", {
        "oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    tenant_a.member.user.refresh_from_db()
    assert tenant_a.member.user.check_password(NEW_PASSWORD)


@pytest.fixture
def spread(tenant_a, tenant_b, make_tenant):  # type: ignore[no-untyped-def]
    """One verified address in A (admin) and B (member), deactivated in C, member of an
    inactive D."""
    user = tenant_a.admin.user
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    add_member(tenant_b.account, user.username)
    c, d = make_tenant("charlie"), make_tenant("delta")
    profile, _ = add_member(c.account, user.username)
    UserProfile.objects.filter(pk=profile.pk).update(is_active=False)
    add_member(d.account, user.username)
    Account.objects.filter(pk=d.account.pk).update(is_active=False)
    return user, [tenant_a, tenant_b], [c, d]


def test_find_my_accounts_lists_exactly_the_active_tenants(platform, spread):
    user, active, inactive = spread
    client = host_client("localhost")
    assert client.get("/accounts/find/").status_code == 200
    known = client.post("/accounts/find/", {"email": user.email.upper()})
    unknown = host_client("localhost").post("/accounts/find/", {"email": "nobody@nowhere.test"})
    assert _comparable(known) == _comparable(unknown) and known.status_code == 302
    assert host_client("localhost").get(known["Location"]).status_code == 200
    message = last_mail(user.email)
    assert len([m for m in mail.outbox if user.email in m.to]) == 1
    hosts = {host_and_path(u)[0] for u in links(message)}
    assert hosts == {t.host for t in active}
    for t in active:
        assert t.account.company_name in message.body and t.account.account_number in message.body
    for t in inactive:
        assert t.account.company_name not in message.body
    assert_mail_is_complete(message, active[0].account.company_name, active[0].host)
    assert not links(last_mail("nobody@nowhere.test"))


def test_find_my_accounts_only_on_the_bare_domain_and_rate_limited(platform, tenant_a, settings):
    assert host_client(tenant_a.host).get("/accounts/find/").status_code == 404
    assert host_client(tenant_a.host).post("/accounts/find/", {"email": "x@y.test"}).status_code == 404
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "find_accounts": "4/h/ip,2/h/key"}
    client = host_client("localhost")
    codes = [client.post("/accounts/find/", {"email": "same@x.test"}).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    assert client.post("/accounts/find/", {"email": "other@x.test"}).status_code == 302
    assert client.post("/accounts/find/", {"email": "third@x.test"}).status_code == 429
    assert len(mail.outbox) == 3


def test_find_my_accounts_matches_verified_addresses_only(platform, tenant_a, tenant_b, make_tenant):
    """Issue 22: an address that is only a username, a ``User.email`` or an unverified allauth
    address of some member mails nothing about that member's accounts; its verified owner's
    accounts are listed."""
    squatter = tenant_a.member.user  # User.email member@alpha.test, never verified
    EmailAddress.objects.create(user=squatter, email=squatter.email, verified=False, primary=True)
    named, _ = add_member(tenant_b.account, "victim@corp.test", password=PASSWORD)  # a username
    owner = make_tenant("charlie").member.user
    EmailAddress.objects.create(user=owner, email="owner@corp.test", verified=True)
    for address in (squatter.email, "victim@corp.test", "owner@corp.test"):
        assert host_client("localhost").post("/accounts/find/", {"email": address}).status_code == 302
    for address, company in ((squatter.email, tenant_a.account.company_name),
                             ("victim@corp.test", tenant_b.account.company_name)):
        message = last_mail(address)
        assert company not in message.body and not links(message), message.body
    assert "Charlie Corp" in last_mail("owner@corp.test").body
