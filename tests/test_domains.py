"""Custom domains against a real DNS server on loopback: verification, routing, suspension,
claims, isolation, ALLOWED_HOSTS/CSRF/cookies and the canonical redirect."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import DisallowedHost, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from domains.models import Domain, HostnameClaim
from tests.conftest import PASSWORD, host_client
from tests.support.dns_server import dns_zone  # noqa: F401 - fixture
from tests.support.domain_support import bucket_keys
from workspaces.models import Workspace

HOST = "app.alpha-corp.test"


def publish(zone, domain: Domain, token: str | None = None) -> None:  # type: ignore[no-untyped-def]
    """Create the records the console asks for (with another token if given)."""
    zone.set(domain.challenge_name, "TXT", token or domain.token)
    zone.set(domain.hostname, "CNAME", "alpha.api.localhost")


def add_domain(tenant, hostname: str = HOST) -> Domain:  # type: ignore[no-untyped-def]
    """Add a domain as the tenant's admin through the console; returns the stored row."""
    resp = host_client(tenant.host, tenant.admin.user).post("/console/domains/", {"hostname": hostname})
    assert resp.status_code == 302, resp.content[:500]
    return Domain.objects.get(hostname=hostname.lower().rstrip("."))


def verify(tenant, domain: Domain) -> Domain:  # type: ignore[no-untyped-def]
    resp = host_client(tenant.host, tenant.admin.user).post(f"/console/domains/{domain.pk}/verify/")
    assert resp.status_code == 302
    domain.refresh_from_db()
    return domain


@pytest.fixture
def verified(tenant_a, dns_zone):  # type: ignore[no-untyped-def]  # noqa: F811
    domain = add_domain(tenant_a)
    publish(dns_zone, domain)
    assert verify(tenant_a, domain).status == Domain.VERIFIED
    return domain


def test_pending_then_verified_then_routed(tenant_a, dns_zone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    domain = add_domain(tenant_a, "App.Alpha-Corp.TEST.")
    assert domain.hostname == HOST and domain.status == Domain.PENDING and domain.token
    page = host_client(tenant_a.host, tenant_a.admin.user).get("/console/domains/").content.decode()
    assert f"_smarter-challenge.{HOST}" in page and domain.token in page and "alpha.api.localhost" in page
    assert host_client(HOST).get("/").status_code == 404  # known but pending

    publish(dns_zone, domain)
    domain = verify(tenant_a, domain)
    assert domain.status == Domain.VERIFIED and domain.verified_at and domain.last_checked_at
    assert domain.cname_target == "alpha.api.localhost"
    assert (f"_smarter-challenge.{HOST}", "TXT") in dns_zone.queries

    client = host_client(HOST)
    resp = client.get("/")
    assert resp.status_code == 200 and b"Alpha Corp" in resp.content
    assert resp.wsgi_request.account == tenant_a.account and resp.wsgi_request.host_info.custom_domain
    with CaptureQueriesContext(connection) as ctx:  # warm: the host costs no query
        assert client.get("/").status_code == 200
    lookups = [q["sql"] for q in ctx.captured_queries if "workspaces_workspace" not in q["sql"]]
    assert ctx.captured_queries and not lookups  # (the home page lists the workspaces)


def test_wrong_or_missing_token_stays_pending(tenant_a, dns_zone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    domain = add_domain(tenant_a)
    assert verify(tenant_a, domain).status == Domain.PENDING
    assert "No TXT record" in domain.last_check_detail
    publish(dns_zone, domain, token="smarter-verify-someone-elses-token")
    domain = verify(tenant_a, domain)
    assert domain.status == Domain.PENDING and domain.verified_at is None
    assert "does not carry this domain's token" in domain.last_check_detail
    assert host_client(HOST).get("/").status_code == 404


def test_removed_record_suspends_after_the_grace_period(tenant_a, verified, dns_zone, monkeypatch, settings):  # type: ignore[no-untyped-def]  # noqa: F811
    settings.CUSTOM_DOMAIN_GRACE_PERIOD = 3600
    dns_zone.set(verified.challenge_name, "TXT")  # the customer deletes the record
    call_command("check_domains")
    verified.refresh_from_db()
    assert verified.status == Domain.VERIFIED and verified.failing_since is not None
    assert host_client(HOST).get("/").status_code == 200  # still within the grace period
    assert not mail.outbox

    later = timezone.now() + timedelta(seconds=3601)
    monkeypatch.setattr(timezone, "now", lambda: later)
    call_command("check_domains")
    verified.refresh_from_db()
    assert verified.status == Domain.SUSPENDED
    assert host_client(HOST).get("/").status_code == 404
    assert [m.to for m in mail.outbox] == [[tenant_a.admin.user.email]]
    assert HOST in mail.outbox[0].subject and verified.token in mail.outbox[0].body

    publish(dns_zone, verified)  # the record is back: served again at the next check
    call_command("check_domains", domain=[HOST])
    verified.refresh_from_db()
    assert verified.status == Domain.VERIFIED and verified.failing_since is None
    assert host_client(HOST).get("/").status_code == 200
    assert len(mail.outbox) == 1


def test_record_back_within_grace_clears_the_failure(tenant_a, verified, dns_zone):  # type: ignore[no-untyped-def]  # noqa: F811
    dns_zone.set(verified.challenge_name, "TXT")
    call_command("check_domains")
    publish(dns_zone, verified)
    call_command("check_domains")
    verified.refresh_from_db()
    assert verified.status == Domain.VERIFIED and verified.failing_since is None


def test_dns_outage_changes_nothing_and_the_command_fails(tenant_a, verified, dns_zone, settings):  # type: ignore[no-untyped-def]  # noqa: F811
    settings.CUSTOM_DOMAIN_GRACE_PERIOD = 0
    dns_zone.failing = True
    with pytest.raises(CommandError, match=f"(?s)1 failed:.*{HOST}.*DNS lookup failed"):
        call_command("check_domains")
    verified.refresh_from_db()
    assert verified.status == Domain.VERIFIED and verified.failing_since is None
    assert "DNS lookup failed" in verified.last_check_detail
    assert host_client(HOST).get("/").status_code == 200


def test_check_domains_rejects_unknown_or_malformed_names(tenant_a, dns_zone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    with pytest.raises(CommandError, match="No such custom domain: nope.example.org"):
        call_command("check_domains", domain=["nope.example.org"])
    with pytest.raises(CommandError, match="Not a valid domain name"):
        call_command("check_domains", domain=["bad_name!.org"])


def test_stale_pending_domains_are_released(tenant_a, dns_zone, settings) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    stale, fresh = add_domain(tenant_a, "old.alpha-corp.test"), add_domain(tenant_a, "new.alpha-corp.test")
    Domain.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=30))
    call_command("check_domains")
    assert list(Domain.objects.values_list("hostname", flat=True)) == [fresh.hostname]


def test_a_domain_of_a_cannot_be_claimed_by_b(tenant_a, tenant_b, dns_zone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    domain = add_domain(tenant_a)
    resp = host_client(tenant_b.host, tenant_b.admin.user).post("/console/domains/",
                                                                {"hostname": HOST.upper()})
    assert resp.status_code == 200 and b"registered by another account" in resp.content
    with pytest.raises(IntegrityError), transaction.atomic():  # the database holds it too
        Domain(hostname=HOST, user_profile=tenant_b.admin).save()
    with pytest.raises(IntegrityError), transaction.atomic():
        Domain.objects.filter(pk=domain.pk).update(hostname=HOST.upper())  # lower case only
    # B publishing its own token for the name does not move it either
    assert Domain.objects.get(hostname=HOST).account_id == tenant_a.account.pk


def test_unique_hostname_ignores_case_in_the_database(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    Domain(hostname=HOST, user_profile=tenant_a.admin).save()
    with connection.cursor() as cursor, pytest.raises(IntegrityError), transaction.atomic():
        cursor.execute(  # straight SQL: no save() normalisation in the way
            "INSERT INTO domains_domain (hostname, status, token, is_canonical, bucket, user_profile_id,"
            " account_id, created_at, updated_at, name, description, version, annotations,"
            " last_check_detail, cname_target) VALUES (%s, 'pending', 't', false, 1, %s, %s,"
            " %s, %s, '', '', '1.0.0', '{}', '', '')",
            [HOST.upper(), tenant_b.admin.pk, tenant_b.account.pk, timezone.now(), timezone.now()],
        )


def insert_domain(hostname: str, owner) -> None:  # type: ignore[no-untyped-def]
    """A domain row by straight SQL: no save(), so no claim is written."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO domains_domain (hostname, status, token, is_canonical, bucket, user_profile_id,"
            " account_id, created_at, updated_at, name, description, version, annotations,"
            " last_check_detail, cname_target) VALUES (%s, 'pending', 't', false, 1, %s, %s,"
            " %s, %s, '', '', '1.0.0', '{}', '', '')",
            [hostname, owner.pk, owner.account_id, timezone.now(), timezone.now()],
        )


def test_the_claim_table_holds_the_platform_wide_rule(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    """The domain table (distributed by account) is unique per account; the hostname claim
    (a reference table) is what keeps a name to one account across the platform."""
    domain = Domain(hostname=HOST.upper() + ".", user_profile=tenant_a.admin)
    domain.save()
    assert list(HostnameClaim.objects.values_list("hostname", "account_id")) == [(HOST, tenant_a.account.pk)]
    with pytest.raises(IntegrityError), transaction.atomic():  # B's domain row is fine, its claim is not
        Domain(hostname=HOST, user_profile=tenant_b.admin).save()
    assert not Domain.objects.filter(account=tenant_b.account).exists()  # rolled back together
    with pytest.raises(IntegrityError), transaction.atomic():
        HostnameClaim.objects.create(hostname=HOST, account=tenant_b.account, bucket=0)
    with pytest.raises(IntegrityError), transaction.atomic():
        HostnameClaim.objects.create(hostname=HOST.upper(), account=tenant_b.account, bucket=0)
    with pytest.raises(IntegrityError), transaction.atomic():  # the same account twice
        insert_domain(HOST, tenant_a.admin)

    Domain.objects.filter(pk=domain.pk).delete()  # a queryset delete releases the claim too
    assert not HostnameClaim.objects.exists()
    Domain(hostname=HOST, user_profile=tenant_b.admin).save()  # now B may take it
    assert HostnameClaim.objects.get().account_id == tenant_b.account.pk


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite cannot add a foreign key to an existing table")
def test_no_domain_without_its_accounts_claim_on_postgresql(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    Domain(hostname=HOST, user_profile=tenant_a.admin).save()
    with pytest.raises(IntegrityError, match="domains_domain_claim"), transaction.atomic():
        insert_domain(HOST, tenant_b.admin)  # A's claim, not B's
        connection.check_constraints()  # the key is deferred to commit otherwise
    with pytest.raises(IntegrityError, match="domains_domain_claim"), transaction.atomic():
        HostnameClaim.objects.all().delete()
        connection.check_constraints()


def test_a_domain_handed_over_to_another_account_moves_its_claim(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    domain = Domain(hostname=HOST, user_profile=tenant_a.admin)
    domain.save()
    domain.user_profile = tenant_b.admin
    domain.save()
    assert HostnameClaim.objects.get().account_id == tenant_b.account.pk
    connection.check_constraints()


def test_admin_refuses_a_name_claimed_by_another_account(tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    Domain(hostname=HOST, user_profile=tenant_a.admin).save()
    with pytest.raises(ValidationError) as exc:
        Domain(hostname=HOST.upper(), user_profile=tenant_b.admin).full_clean()
    assert exc.value.message_dict["hostname"] == ["This domain is already registered on the platform."]


@pytest.mark.parametrize("name", [
    "localhost", "x.localhost", "team.1234-5678-9012.alpha.api.localhost", "testserver", "127.0.0.1",
    "bad_name.test", "-x.test", "app.test:8080", "[::1]", "tëst.example", "com", "a" * 64 + ".test",
])
def test_platform_and_malformed_names_are_refused(tenant_a, name) -> None:  # type: ignore[no-untyped-def]
    resp = host_client(tenant_a.host, tenant_a.admin.user).post("/console/domains/", {"hostname": name})
    assert resp.status_code == 200 and b"errorlist" in resp.content
    assert not Domain.objects.exists()


def test_custom_domain_never_serves_another_accounts_data_or_session(tenant_a, tenant_b, verified):  # type: ignore[no-untyped-def]
    Workspace.objects.create(user_profile=tenant_b.admin, name="bravo-secret", is_public=True)
    for user in (tenant_b.admin.user, tenant_b.member.user, None):
        client = host_client(HOST, user)
        home = client.get("/")
        assert home.status_code == 200 and b"Bravo" not in home.content and b"bravo-" not in home.content
        assert home.wsgi_request.user_profile is None and not home.wsgi_request.user.is_authenticated
        console = client.get("/console/members/")
        assert console.status_code == 302 and "/login/" in console["Location"]
    admin = host_client(HOST, tenant_a.admin.user).get("/console/members/")
    assert admin.status_code == 200 and b"alpha-member" in admin.content and b"bravo" not in admin.content


def test_session_made_on_the_custom_domain_is_host_only(tenant_a, verified, settings):  # type: ignore[no-untyped-def]
    settings.SESSION_COOKIE_DOMAIN = settings.CSRF_COOKIE_DOMAIN = ".localhost"  # shared on purpose
    client = host_client(HOST)
    assert client.get("/login/").cookies["csrftoken"]["domain"] == ""
    resp = client.post("/login/", {"login": "alpha-admin", "password": PASSWORD})
    assert resp.status_code == 302
    assert resp.cookies["sessionid"]["domain"] == ""  # host-only on the custom domain
    assert client.get("/console/").status_code == 200
    number_host = host_client(tenant_a.host).post("/login/", {"login": "alpha-admin",
                                                             "password": PASSWORD})
    assert number_host.cookies["sessionid"]["domain"] == ".localhost"  # the operator's choice stays


def test_https_csrf_checks_the_origin_against_the_custom_domain(tenant_a, verified):  # type: ignore[no-untyped-def]
    def login(**headers: str) -> int:
        client = Client(HTTP_HOST=HOST, enforce_csrf_checks=True)
        token = client.get("/login/", secure=True).cookies["csrftoken"].value
        resp = client.post("/login/", {"login": "alpha-admin", "password": PASSWORD,
                                       "csrfmiddlewaretoken": token}, secure=True, **headers)
        return resp.status_code

    assert login(HTTP_ORIGIN=f"https://{HOST}") == 302
    assert login(HTTP_REFERER=f"https://{HOST}/login/") == 302
    assert login(HTTP_ORIGIN="https://evil.test") == 403
    assert login(HTTP_ORIGIN=f"https://{tenant_a.host}") == 403  # another host of the platform
    assert login(HTTP_REFERER="https://evil.test/login/") == 403


def test_allowed_hosts_cover_verified_domains_only(tenant_a, tenant_b, verified, dns_zone, settings):  # type: ignore[no-untyped-def]  # noqa: F811
    assert "*" not in settings.ALLOWED_HOSTS
    other = add_domain(tenant_b, "pending.bravo-corp.test")
    factory = RequestFactory()
    assert factory.get("/", HTTP_HOST=f"{HOST}:8443").get_host() == f"{HOST}:8443"
    assert factory.get("/", HTTP_HOST=HOST.upper() + ".").get_host()
    for bad in (other.hostname, "evil.test", "*", "x" + HOST, HOST + ".evil.test"):
        with pytest.raises(DisallowedHost):
            factory.get("/", HTTP_HOST=bad).get_host()
        assert host_client(bad).get("/").status_code in (400, 404)
    assert host_client(other.hostname).get("/").status_code == 404  # known, not verified
    assert host_client("evil.test").get("/").status_code == 400  # unknown host
    verified.delete()
    with pytest.raises(DisallowedHost):
        factory.get("/", HTTP_HOST=HOST).get_host()
    assert host_client(HOST).get("/").status_code == 400


def test_ssl_redirect_on_a_custom_domain(tenant_a, verified, settings):  # type: ignore[no-untyped-def]
    settings.SECURE_SSL_REDIRECT = True  # SecurityMiddleware asks get_host() before the tenant middleware
    resp = host_client(HOST).get("/x?y=1")
    assert resp.status_code == 301 and resp["Location"] == f"https://{HOST}/x?y=1"
    assert host_client("evil.test").get("/").status_code == 400


def test_domain_serving_a_workspace_follows_renames(tenant_a, verified, dns_zone):  # type: ignore[no-untyped-def]  # noqa: F811
    workspace = Workspace.objects.create(user_profile=tenant_a.admin, name="docs", is_public=True)
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    resp = admin.post(f"/console/domains/{verified.pk}/workspace/", {"workspace": workspace.pk})
    assert resp.status_code == 302
    client = host_client(HOST)
    assert client.get("/").wsgi_request.workspace == workspace
    with CaptureQueriesContext(connection) as ctx:  # warm public workspace page: no query at all
        assert client.get("/").status_code == 200
    assert not ctx.captured_queries, [q["sql"] for q in ctx.captured_queries]
    workspace.name = "handbook"
    workspace.save()
    resp = client.get("/")
    assert resp.status_code == 200 and resp.wsgi_request.workspace.name == "handbook"
    workspace.delete()
    assert client.get("/").wsgi_request.workspace is None  # back to the account's home


def test_workspace_of_another_account_is_refused(tenant_a, tenant_b, verified):  # type: ignore[no-untyped-def]
    theirs = Workspace.objects.create(user_profile=tenant_b.admin, name="theirs")
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    admin.post(f"/console/domains/{verified.pk}/workspace/", {"workspace": theirs.pk})
    verified.refresh_from_db()
    assert verified.workspace_id is None
    verified.workspace = theirs
    with pytest.raises(Exception, match="workspace must belong"):
        verified.save()


def test_canonical_domain_redirects_the_number_hosts_pages(tenant_a, verified, dns_zone):  # type: ignore[no-untyped-def]  # noqa: F811
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    assert admin.post(f"/console/domains/{verified.pk}/canonical/", {"canonical": "1"}).status_code == 302
    anonymous = host_client(tenant_a.host)
    resp = anonymous.get("/some/page?q=1")
    assert resp.status_code == 302 and resp["Location"] == f"http://{HOST}/some/page?q=1"
    assert admin.get("/console/domains/").status_code == 200  # management stays on the number host
    assert anonymous.get("/login/").status_code == 200
    assert anonymous.get("/api/v1/account/").status_code in (401, 403)
    assert anonymous.post("/").status_code != 302
    # suspended: the number host serves again
    verified.refresh_from_db()
    verified.status = Domain.SUSPENDED
    verified.save(update_fields=["status"])
    assert anonymous.get("/").status_code == 200
    verified.status = Domain.VERIFIED
    verified.save(update_fields=["status"])
    assert anonymous.get("/").status_code == 302
    assert admin.post(f"/console/domains/{verified.pk}/canonical/", {"canonical": "0"}).status_code == 302
    assert anonymous.get("/").status_code == 200


def test_only_a_verified_domain_becomes_canonical_and_only_one(tenant_a, verified, dns_zone):  # type: ignore[no-untyped-def]  # noqa: F811
    pending = add_domain(tenant_a, "www.alpha-corp.test")
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    admin.post(f"/console/domains/{pending.pk}/canonical/", {"canonical": "1"})
    pending.refresh_from_db()
    assert not pending.is_canonical
    publish(dns_zone, pending)
    verify(tenant_a, pending)
    admin.post(f"/console/domains/{verified.pk}/canonical/", {"canonical": "1"})
    admin.post(f"/console/domains/{pending.pk}/canonical/", {"canonical": "1"})
    canonical = Domain.objects.filter(is_canonical=True).values_list("hostname", flat=True)
    assert list(canonical) == [pending.hostname]
    with pytest.raises(IntegrityError), transaction.atomic():
        Domain.objects.filter(pk=verified.pk).update(is_canonical=True)


def test_removing_a_domain_stops_serving_it_at_once(tenant_a, verified):  # type: ignore[no-untyped-def]
    client = host_client(HOST)
    assert client.get("/").status_code == 200
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    assert admin.post(f"/console/domains/{verified.pk}/delete/").status_code == 302
    assert client.get("/").status_code == 400
    assert not Domain.objects.exists()


def test_deactivated_account_is_not_served_on_its_domain(tenant_a, verified):  # type: ignore[no-untyped-def]
    tenant_a.account.is_active = False
    tenant_a.account.save()
    assert host_client(HOST).get("/").status_code == 404


def test_console_domains_need_an_account_admin(tenant_a, tenant_b, verified):  # type: ignore[no-untyped-def]
    assert host_client(tenant_a.host, tenant_a.member.user).get("/console/domains/").status_code == 403
    assert host_client(tenant_a.host).get("/console/domains/").status_code == 302
    b_admin = host_client(tenant_b.host, tenant_b.admin.user)
    for action in ("verify", "delete", "canonical", "workspace"):
        assert b_admin.post(f"/console/domains/{verified.pk}/{action}/").status_code == 404
    assert Domain.objects.filter(pk=verified.pk, status=Domain.VERIFIED).exists()


def test_unknown_custom_hosts_do_not_grow_the_shared_cache(tenant_a, verified, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("domains.hostnames.BUCKETS", 4)  # a handful of buckets, many hosts
    hosts = [f"probe{i}.unknown-{i}.test" for i in range(60)]
    before = bucket_keys()
    with CaptureQueriesContext(connection) as ctx:
        for host in hosts:
            assert host_client(host).get("/").status_code == 400
    keys = bucket_keys() - before
    assert keys and not any("probe" in k for k in bucket_keys())
    assert len({k.rsplit(":", 1)[-1] for k in keys}) <= 4
    domain_queries = [q["sql"] for q in ctx.captured_queries if "domains_domain" in q["sql"]]
    assert len(domain_queries) <= 4, domain_queries
    with CaptureQueriesContext(connection) as ctx:  # the same unknown hosts again: no query
        for host in hosts:
            assert host_client(host).get("/").status_code == 400
    assert not ctx.captured_queries


# --- pending claims cannot squat a domain ---------------------------------------------------
PROOF = re.compile(r"smarter-verify-[0-9a-f]{32}")


def test_a_party_that_proves_the_txt_record_takes_a_pending_claim_over(tenant_a, tenant_b, dns_zone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    """A adds B's domain and never proves it (a squat). B is told the record that proves it
    is B's; once B publishes it, adding the domain again gives it to B, verified; A's pending
    claim is gone."""
    squat = add_domain(tenant_a)
    b_admin = host_client(tenant_b.host, tenant_b.admin.user)
    refused = b_admin.post("/console/domains/", {"hostname": HOST})
    page = refused.content.decode()
    assert refused.status_code == 200 and "waiting for its owner to prove it" in page
    tokens = set(PROOF.findall(page))
    assert len(tokens) == 1 and squat.token not in tokens and f"_smarter-challenge.{HOST}" in page
    assert Domain.objects.get(hostname=HOST).account_id == tenant_a.account.pk
    dns_zone.set(squat.challenge_name, "TXT", tokens.pop())
    taken = b_admin.post("/console/domains/", {"hostname": HOST})
    assert taken.status_code == 302, taken.content[:800]
    domain = Domain.objects.get(hostname=HOST)
    assert domain.account_id == tenant_b.account.pk and domain.status == Domain.VERIFIED
    assert HostnameClaim.objects.get(hostname=HOST).account_id == tenant_b.account.pk
    assert not Domain.objects.filter(pk=squat.pk).exists()
    assert host_client(HOST).get("/").wsgi_request.account == tenant_b.account
    assert verify(tenant_b, domain).status == Domain.VERIFIED  # the published record keeps it


def test_a_verified_domain_is_not_taken_over(tenant_a, tenant_b, verified, dns_zone) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    b_admin = host_client(tenant_b.host, tenant_b.admin.user)
    page = b_admin.post("/console/domains/", {"hostname": HOST}).content.decode()
    assert "already registered" in page and not PROOF.findall(page.replace(verified.token, ""))
    assert Domain.objects.get(hostname=HOST).account_id == tenant_a.account.pk


def test_pending_claims_per_account_are_capped(tenant_a, dns_zone, settings) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    settings.CUSTOM_DOMAIN_MAX_PENDING = 2
    first = add_domain(tenant_a, "one.alpha-corp.test")
    add_domain(tenant_a, "two.alpha-corp.test")
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    refused = admin.post("/console/domains/", {"hostname": "three.alpha-corp.test"})
    assert refused.status_code == 200
    assert "2 domains waiting for verification" in refused.content.decode()
    assert not Domain.objects.filter(hostname="three.alpha-corp.test").exists()
    publish(dns_zone, first)
    verify(tenant_a, first)
    add_domain(tenant_a, "three.alpha-corp.test")  # a verified one no longer counts
