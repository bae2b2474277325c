"""Router domains: the app adds its hosts to the router (Heroku Platform API) and follows their
certificates, through a local stand-in of the API (tests/api.py)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Account
from domains.models import Domain
from routerdomains.models import RouterDomain, RouterDomainRemoval
from routerdomains.provisioning import recheck_due, workspace_wildcard
from routerdomains.tasks import remove_router_domain, sync_router_domain
from tenancy.hosts import tenant_host
from tests.conftest import host_client
from tests.support.dns_server import dns_zone  # noqa: F401 - fixture
from tests.support.domain_support import verified_domain
from tests.support.heroku_api import NOT_JSON, TOKEN, TRUNCATED, heroku_api  # noqa: F401 - fixture
from workspaces.models import Workspace

PLATFORM = "localhost"
SIGNUP = {"company_name": "Zeta Widgets", "first_name": "Zoe", "last_name": "Zed",
          "email": "zoe@zeta.test", "password1": "a-long-unique-password-42"}


def wildcard_of(tenant) -> str:  # type: ignore[no-untyped-def]
    return workspace_wildcard(tenant.account.account_number)


def row(account: Account, hostname: str) -> RouterDomain:
    return RouterDomain.objects.get(account=account, hostname=hostname)


def make_due() -> None:
    """Fast-forward: every scheduled attempt is due now."""
    past = timezone.now() - timedelta(seconds=1)
    RouterDomain.objects.exclude(next_attempt_at=None).update(next_attempt_at=past)
    RouterDomainRemoval.objects.update(next_attempt_at=past)


@pytest.fixture
def api(heroku_api, platform):  # type: ignore[no-untyped-def]  # noqa: F811
    """The fake API, with the platform's own wildcard already provisioned (as in a deployment
    whose default account was set up before), so each test's calls are its own."""
    RouterDomain.objects.filter(account=platform.account).update(state="issued", next_attempt_at=None)
    return heroku_api


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):  # type: ignore[no-untyped-def]
    """Run the after-commit enqueues as a committed transaction would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


# --- the `none` provider (default) -------------------------------------------------------

def test_none_provider_records_the_hosts_and_calls_nothing(api, settings, make_tenant, on_commit,
                                                           capsys):
    settings.ROUTER_DOMAIN_PROVIDER = "none"
    with on_commit():
        tenant = make_tenant("alpha")
        verified_domain(tenant.admin, "app.alpha.test")
    assert wildcard_of(tenant) == f"*.{tenant.account.account_number}.alpha.api.localhost"
    rows = RouterDomain.objects.filter(account=tenant.account)
    assert {(r.hostname, r.kind, r.state) for r in rows} == {
        (wildcard_of(tenant), "workspaces", "manual"), ("app.alpha.test", "custom", "manual")}
    assert all(r.next_attempt_at is None for r in rows)
    Domain.objects.get(hostname="app.alpha.test").delete()
    assert not RouterDomainRemoval.objects.exists()  # the operator removes it
    call_command("check_domains")
    out = capsys.readouterr().out
    manual = RouterDomain.objects.filter(state="manual").count()  # the platform's wildcard too
    assert f"router domains (none): {manual} operator must route it" in out
    assert "the operator must route the hosts" in out
    assert api.requests == []
    page = host_client(tenant.host, tenant.admin.user).get("/console/domains/").content.decode()
    assert "the platform&#x27;s operator must route these hosts" in page or \
        "the platform's operator must route these hosts" in page
    assert wildcard_of(tenant) in page and "The operator must route this host." in page


# --- account lifecycle, in-process ----------------------------------------------------------

def test_account_creation_adds_its_workspace_wildcard_and_follows_the_certificate(
        api, make_tenant, on_commit, capsys):
    with on_commit():
        tenant = make_tenant("alpha")
    wildcard = wildcard_of(tenant)
    assert wildcard in api.hostnames()
    assert all(ok for _, _, ok in api.requests)  # authenticated with the token
    added = row(tenant.account, wildcard)
    assert (added.state, added.provider, added.attempts) == ("added", "heroku", 1)
    assert added.provider_id == api.domains[wildcard]["id"]
    assert added.dns_target.endswith(".herokudns.com")
    assert added.next_attempt_at > timezone.now()  # the certificate is checked later
    # Not due yet: nothing is called.
    calls = len(api.requests)
    recheck_due()
    assert len(api.requests) == calls
    make_due()
    call_command("check_domains")
    assert row(tenant.account, wildcard).state == "pending"
    make_due()
    call_command("check_domains")
    issued = row(tenant.account, wildcard)
    assert (issued.state, issued.acm_status, issued.next_attempt_at, issued.attempts) == (
        "issued", "cert issued", None, 0)
    out = capsys.readouterr().out
    assert f"router {wildcard}: certificate pending" in out
    assert f"router {wildcard}: certificate issued" in out
    # GET by the provider's id, never by another name
    assert api.calls("GET") == [f"/apps/{api.app}/domains/{issued.provider_id}"] * 2


def test_backoff_after_429_and_5xx_then_success(api, make_tenant, on_commit, settings):
    settings.ROUTER_DOMAIN_RETRY_BASE = 60
    api.fail_next(429, Retry_After="300")
    with on_commit():
        tenant = make_tenant("alpha")
    wildcard = wildcard_of(tenant)
    failed = row(tenant.account, wildcard)
    assert failed.state == "failed" and failed.attempts == 1
    assert "rate limit reached (HTTP 429)" in failed.detail
    assert failed.next_attempt_at >= timezone.now() + timedelta(seconds=290)  # Retry-After wins
    assert tenant.account.is_active and wildcard not in api.hostnames()
    api.fail_next(503)
    make_due()
    with pytest.raises(CommandError, match="HTTP 503"):
        call_command("check_domains")
    second = row(tenant.account, wildcard)
    assert second.attempts == 2
    delay = second.next_attempt_at - timezone.now()
    assert timedelta(seconds=100) < delay <= timedelta(seconds=120)  # 60 s doubled
    api.fail_next(500)
    make_due()
    recheck_due()
    third = row(tenant.account, wildcard)
    assert third.attempts == 3 and third.next_attempt_at - timezone.now() > timedelta(seconds=230)
    make_due()
    call_command("check_domains")
    assert row(tenant.account, wildcard).state == "added"
    assert wildcard in api.hostnames()


def test_a_failing_certificate_is_shown_with_its_reason_and_rechecked(api, make_tenant, on_commit,
                                                                      capsys):
    api.acm_steps = [None, "failing"]
    with on_commit():
        tenant = make_tenant("alpha")
    make_due()
    call_command("check_domains")  # not a failed call: exit 0
    failing = row(tenant.account, wildcard_of(tenant))
    assert (failing.state, failing.acm_status) == ("failed", "failing")
    assert "CAA record prevents issuance" in failing.detail and failing.next_attempt_at is not None
    assert "failed - Certificate failing: CAA record prevents issuance" in capsys.readouterr().out
    page = host_client(tenant.host, tenant.admin.user).get("/console/").content.decode()
    assert "CAA record prevents issuance" in page and "status-failed" in page
    api.acm_steps = [None, "failing", "cert issued"]
    make_due()
    recheck_due()
    assert row(tenant.account, wildcard_of(tenant)).state == "issued"


def test_backoff_is_capped(api, make_tenant, on_commit, settings):
    settings.ROUTER_DOMAIN_RETRY_MAX = 600
    api.fail_next(500, 20)
    with on_commit():
        tenant = make_tenant("alpha")
    for _ in range(12):
        make_due()
        recheck_due()
    failed = row(tenant.account, wildcard_of(tenant))
    assert failed.attempts == 13
    assert failed.next_attempt_at - timezone.now() <= timedelta(seconds=600)


def test_a_duplicate_already_on_the_app_is_adopted(api, make_tenant, on_commit):
    """A POST whose answer was lost succeeded: the retry's 422 finds the domain on this app."""
    with on_commit():
        tenant = make_tenant("alpha")
    wildcard = wildcard_of(tenant)
    RouterDomain.objects.filter(hostname=wildcard).update(provider_id="", state="failed")
    make_due()
    recheck_due()
    adopted = row(tenant.account, wildcard)
    assert adopted.state in {"added", "pending"}
    assert adopted.provider_id == api.domains[wildcard]["id"]
    assert api.posted == [wildcard, wildcard]


def test_a_domain_held_by_another_app_fails_with_the_reason(api, tenant_a, on_commit):
    api.taken.add("shop.alpha.test")
    with on_commit():
        verified_domain(tenant_a.admin, "shop.alpha.test")
    failed = row(tenant_a.account, "shop.alpha.test")
    assert failed.state == "failed"
    assert "in use by another app" in failed.detail and failed.next_attempt_at is not None


def test_a_broken_answer_is_a_failure_not_an_error(api, make_tenant, on_commit):
    api.fail_next(TRUNCATED)
    with on_commit():
        tenant = make_tenant("alpha")
    broken = row(tenant.account, wildcard_of(tenant))
    assert broken.state == "failed" and "unreachable" in broken.detail
    make_due()
    recheck_due()
    assert row(tenant.account, wildcard_of(tenant)).state == "added"


def test_a_created_answer_without_a_domain_is_a_failure_not_added(api, make_tenant, on_commit):
    """A 201 whose body is not the domain (not JSON) is no proof the host was added: recorded
    as failed with the reason and tried again, never "added" without its provider id."""
    api.fail_next(NOT_JSON)
    with on_commit():
        tenant = make_tenant("alpha")
    broken = row(tenant.account, wildcard_of(tenant))
    assert broken.state == "failed" and broken.provider_id == ""
    assert "Heroku API answered HTTP 201 without the domain (not JSON)" in broken.detail
    assert broken.next_attempt_at is not None
    make_due()
    recheck_due()
    again = row(tenant.account, wildcard_of(tenant))
    assert again.state == "added" and again.provider_id


def test_wrong_token_and_unreachable_api_are_failures_not_errors(api, make_tenant, on_commit,
                                                                 settings):
    settings.HEROKU_API_TOKEN = "wrong-token"
    with on_commit():
        tenant = make_tenant("alpha")
    assert "refused the API token (HTTP 401)" in row(tenant.account, wildcard_of(tenant)).detail
    settings.HEROKU_API_TOKEN = TOKEN
    settings.HEROKU_API_URL = "http://127.0.0.1:9"  # nothing listens there
    with on_commit():
        other = make_tenant("bravo")
    unreachable = row(other.account, wildcard_of(other))
    assert unreachable.state == "failed" and "unreachable" in unreachable.detail


def test_no_token_in_logs_output_or_rows(api, make_tenant, on_commit, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    api.fail_next(401)
    api.fail_next(429)
    with on_commit():
        tenant = make_tenant("alpha")
    make_due()
    with pytest.raises(CommandError) as failure:
        call_command("check_domains")
    text = caplog.text + capsys.readouterr().out + str(failure.value)
    text += " ".join(RouterDomain.objects.values_list("detail", flat=True))
    assert "HTTP 429" in text and TOKEN not in text
    assert tenant.account.pk


# --- safety: sign-up and verification never blocked, tenants never crossed ---------------------

def test_a_provider_failure_never_blocks_sign_up(api, platform, on_commit):
    api.fail_next(500, 5)
    with on_commit():
        response = host_client(PLATFORM).post("/accounts/signup/", SIGNUP)
    assert response.status_code == 302
    account = Account.objects.get(company_name="Zeta Widgets")
    assert row(account, workspace_wildcard(account.account_number)).state == "failed"


def test_a_provider_failure_never_blocks_domain_verification(api, tenant_a, dns_zone, on_commit):  # noqa: F811
    domain = Domain(user_profile=tenant_a.admin, hostname="app.alpha.test")
    domain.save()
    dns_zone.set(domain.challenge_name, "TXT", domain.token)
    api.fail_next(503)
    client = host_client(tenant_a.host, tenant_a.admin.user)
    with on_commit():
        response = client.post(f"/console/domains/{domain.pk}/verify/", follow=True)
    assert "is verified and served" in response.content.decode()
    domain.refresh_from_db()
    assert domain.status == Domain.VERIFIED
    assert row(tenant_a.account, "app.alpha.test").state == "failed"


def test_custom_domain_lifecycle(api, tenant_a, on_commit):
    with on_commit():
        domain = Domain(user_profile=tenant_a.admin, hostname="app.alpha.test")
        domain.save()
    assert "app.alpha.test" not in api.hostnames()  # pending: not routed
    with on_commit():
        verified_domain(tenant_a.admin, "app.alpha.test")
        verified_domain(tenant_a.admin, "app.alpha.test")  # re-verified: nothing more
    assert "app.alpha.test" in api.hostnames()
    assert api.posted == ["app.alpha.test"]  # once
    with on_commit():
        Domain.objects.get(hostname="app.alpha.test").delete()
    assert "app.alpha.test" not in api.hostnames()
    assert not RouterDomain.objects.filter(hostname="app.alpha.test").exists()
    assert not RouterDomainRemoval.objects.exists()
    assert row(tenant_a.account, wildcard_of(tenant_a)).state == "queued"  # untouched


def test_a_failed_removal_is_retried_by_check_domains(api, tenant_a, on_commit):
    with on_commit():
        verified_domain(tenant_a.admin, "app.alpha.test")
    api.fail_next(429)
    with on_commit():
        Domain.objects.get(hostname="app.alpha.test").delete()
    removal = RouterDomainRemoval.objects.get(hostname="app.alpha.test")
    assert removal.attempts == 1 and "429" in removal.detail
    assert "app.alpha.test" in api.hostnames()
    make_due()
    call_command("check_domains")
    assert "app.alpha.test" not in api.hostnames()
    assert not RouterDomainRemoval.objects.exists()


def test_a_removal_never_takes_a_host_another_account_records_again(api, tenant_a, tenant_b,
                                                                     on_commit):
    with on_commit():
        verified_domain(tenant_a.admin, "shop.example.org")
    api.fail_next(503)
    with on_commit():
        Domain.objects.get(hostname="shop.example.org").delete()  # A's removal fails ...
    assert RouterDomainRemoval.objects.filter(hostname="shop.example.org").exists()
    with on_commit():
        verified_domain(tenant_b.admin, "shop.example.org")  # ... B takes the name meanwhile
    assert row(tenant_b.account, "shop.example.org").state in {"added", "pending"}
    make_due()
    recheck_due()  # A's owed removal comes due
    assert "shop.example.org" in api.hostnames()
    assert not RouterDomainRemoval.objects.exists()
    assert len(api.calls("DELETE")) == 1  # only A's first, failed, attempt


def test_a_task_of_one_account_never_touches_another_accounts_host(api, tenant_a, tenant_b,
                                                                    on_commit):
    with on_commit():
        verified_domain(tenant_b.admin, "app.bravo.test")
    theirs = row(tenant_b.account, "app.bravo.test")
    assert sync_router_domain.enqueue(tenant_a.account.pk, theirs.pk).return_value == "gone"
    assert RouterDomain.objects.get(pk=theirs.pk).updated_at == theirs.updated_at
    # A removal is only ever owed for a deleted row: no row, no call
    assert remove_router_domain.enqueue(10**9).return_value == "gone"
    assert "app.bravo.test" in api.hostnames()


def test_purging_an_account_removes_only_its_hosts(api, tenant_a, tenant_b, on_commit,
                                                   monkeypatch):
    from lifecycle.closure import close_account
    from lifecycle.tasks import purge_closed_account

    with on_commit():
        verified_domain(tenant_a.admin, "app.alpha.test")
        verified_domain(tenant_b.admin, "app.bravo.test")
    recheck_due()  # the tenants' queued wildcards (their fixtures ran before on_commit)
    assert {wildcard_of(tenant_a), wildcard_of(tenant_b), "app.alpha.test",
            "app.bravo.test"} <= api.hostnames()
    close_account(tenant_a.account)
    Account.objects.filter(pk=tenant_a.account.pk).update(closed_at=timezone.now() - timedelta(days=40))
    with on_commit():
        assert purge_closed_account.enqueue(tenant_a.account.pk).return_value
    left = api.hostnames()
    assert wildcard_of(tenant_a) not in left and "app.alpha.test" not in left
    assert {wildcard_of(tenant_b), "app.bravo.test"} <= left
    assert not RouterDomain.objects.filter(account_id=tenant_a.account.pk).exists()
    assert RouterDomain.objects.filter(account=tenant_b.account).count() == 2


# --- console and tenant page --------------------------------------------------------------------

def test_console_shows_the_states_and_the_tenant_page_links_the_number_host_meanwhile(
        api, tenant_a, on_commit):
    Workspace.objects.create(user_profile=tenant_a.admin, name="team", is_public=True)
    with on_commit():
        RouterDomain.objects.filter(account=tenant_a.account).delete()
    with on_commit():
        from routerdomains.provisioning import want_host
        want_host(tenant_a.account.pk, wildcard_of(tenant_a), RouterDomain.WORKSPACES)
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    overview = admin.get("/console/").content.decode()
    assert wildcard_of(tenant_a) in overview and "Added to the router" in overview
    assert "are not served over HTTPS until this certificate is issued" in overview
    home = host_client(tenant_a.host).get("/").content.decode()
    assert 'id="workspace-hosts-pending"' in home
    assert tenant_host(tenant_a.account.account_number, "team") not in home  # no broken link
    assert f"http://{tenant_a.host}/" in home
    for _ in range(2):
        make_due()
        recheck_due()
    assert row(tenant_a.account, wildcard_of(tenant_a)).state == "issued"
    overview = admin.get("/console/").content.decode()
    assert "Certificate issued" in overview and "are not served over HTTPS" not in overview
    home = host_client(tenant_a.host).get("/").content.decode()
    assert 'id="workspace-hosts-pending"' not in home
    assert tenant_host(tenant_a.account.account_number, "team") in home
    domains_page = admin.get("/console/domains/").content.decode()
    assert "HTTPS and routing" in domains_page and "Certificate issued" in domains_page


def test_another_tenant_sees_none_of_the_router_domains(api, tenant_a, tenant_b, on_commit):
    with on_commit():
        verified_domain(tenant_b.admin, "app.bravo.test")
    page = host_client(tenant_a.host, tenant_a.admin.user).get("/console/domains/").content.decode()
    assert "app.bravo.test" not in page and wildcard_of(tenant_b) not in page
    assert wildcard_of(tenant_a) in page
    assert host_client(tenant_a.host, tenant_b.admin.user).get("/console/domains/").status_code in (302, 403)


# --- the database holds the rules ---------------------------------------------------------------

def test_an_unsettled_router_domain_always_has_its_next_attempt(tenant_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        RouterDomain.objects.create(account=tenant_a.account, hostname="x.alpha.test", kind="custom",
                                    state="failed", provider="heroku", next_attempt_at=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        RouterDomain.objects.create(account=tenant_a.account, hostname="y.alpha.test", kind="custom",
                                    state="issued", provider="heroku", next_attempt_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        RouterDomain.objects.create(account=tenant_a.account, hostname=wildcard_of(tenant_a),
                                    kind="workspaces", state="manual", provider="none")


# --- the token stays with Heroku; the settings refuse a bad configuration -----------------------

def test_a_redirect_is_not_followed_so_the_token_goes_nowhere_else(api, make_tenant, on_commit):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[str] = []

    class Elsewhere(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - urllib turns a redirected POST into a GET
            seen.append(self.headers.get("Authorization", ""))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        do_POST = do_GET

        def log_message(self, *args: object) -> None:
            pass

    class Redirecting(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{other.server_address[1]}/steal")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    other = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    front = ThreadingHTTPServer(("127.0.0.1", 0), Redirecting)
    for server in (other, front):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        from django.conf import settings

        settings.HEROKU_API_URL = f"http://127.0.0.1:{front.server_address[1]}"
        with on_commit():
            tenant = make_tenant("alpha")
    finally:
        for server in (other, front):
            server.shutdown()
            server.server_close()
    assert seen == []
    failed = row(tenant.account, wildcard_of(tenant))
    assert failed.state == "failed" and "HTTP 302" in failed.detail


@pytest.mark.parametrize(("extra", "message"), [
    ({"ROUTER_DOMAIN_PROVIDER": "cloudflare"}, "ROUTER_DOMAIN_PROVIDER must be none or heroku"),
    ({"ROUTER_DOMAIN_PROVIDER": "heroku", "HEROKU_APP_NAME": "app"}, "needs HEROKU_API_TOKEN"),
    ({"ROUTER_DOMAIN_PROVIDER": "heroku", "HEROKU_APP_NAME": "app", "HEROKU_API_TOKEN": "t",
      "HEROKU_API_URL": "http://api.example.net"}, "HEROKU_API_URL must be https://"),
])
def test_the_settings_refuse_a_bad_router_configuration(tmp_path, extra, message):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items()  # this run's database settings do not matter here
           if not k.startswith(("HEROKU_", "ROUTER_DOMAIN", "DATABASE_", "REDIS_URL"))}
    env.update(DJANGO_SETTINGS_MODULE="smarter.settings", DATABASE_URL=f"sqlite:///{tmp_path}/x.db", **extra)
    done = subprocess.run([sys.executable, "-c", "import django; django.setup()"],
                          cwd=Path(__file__).resolve().parent.parent, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and message in done.stderr


def test_admin_lists_only_the_accounts_own_router_domains(api, tenant_a, tenant_b, platform):
    a_admin = host_client(tenant_a.host, tenant_a.admin.user)
    body = a_admin.get("/admin/routerdomains/routerdomain/").content.decode()
    assert wildcard_of(tenant_a) in body and wildcard_of(tenant_b) not in body
    theirs = row(tenant_b.account, wildcard_of(tenant_b))
    assert a_admin.get(f"/admin/routerdomains/routerdomain/{theirs.pk}/change/").status_code == 404
    assert a_admin.get("/admin/routerdomains/routerdomainremoval/").status_code in (302, 403)
    root = host_client("localhost", platform.admin.user)
    assert root.get("/admin/routerdomains/routerdomainremoval/").status_code == 200
    body = root.get("/admin/routerdomains/routerdomain/").content.decode()
    assert wildcard_of(tenant_a) in body and wildcard_of(tenant_b) in body


def test_hosts_of_accounts_older_than_router_domains_are_recorded_then_provisioned(api, tenant_a):
    """The data migration records existing accounts' wildcards and verified domains as
    ``manual``; with a provider, the next check_domains adds them."""
    from importlib import import_module

    from django.apps import apps

    verified_domain(tenant_a.admin, "app.alpha.test")
    RouterDomain.objects.all().delete()
    RouterDomainRemoval.objects.all().delete()
    import_module("routerdomains.migrations.0002_record_existing_hosts").record(apps, None)
    mine = RouterDomain.objects.filter(account=tenant_a.account)
    assert {(r.hostname, r.state) for r in mine} == {
        (wildcard_of(tenant_a), "manual"), ("app.alpha.test", "manual")}
    recheck_due()  # what check_domains runs after the DNS checks
    assert {wildcard_of(tenant_a), "app.alpha.test"} <= api.hostnames()
    assert {r.state for r in RouterDomain.objects.filter(account=tenant_a.account)} == {"added"}
