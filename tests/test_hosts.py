"""Host parsing: every host shape through Django's client, a table of bad hosts, unit tests."""

from __future__ import annotations

import pytest
from django.test import override_settings

from accounts.models import Account
from tenancy import hosts
from tenancy.hosts import HostInfo, MalformedHost, UnknownHost, normalize_host, parse_host
from tests.conftest import host_client
from workspaces.models import Workspace

ACCT = "3141-5926-5359"


# --- unit tests of tenancy.hosts ---------------------------------------------------------

@pytest.mark.parametrize(("raw", "expected"), [
    ("localhost", "localhost"),
    ("LOCALHOST", "localhost"),
    ("localhost.", "localhost"),
    ("localhost:8000", "localhost"),
    ("Team.3141-5926-5359.Alpha.API.localhost.:443", "team.3141-5926-5359.alpha.api.localhost"),
    ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ("[::1]:8000", "[::1]"),
])
def test_normalize_host_accepts_and_normalises(raw, expected):
    assert normalize_host(raw) == expected


@pytest.mark.parametrize("raw", [
    "", ".", "a..b", ".localhost", "-a.localhost", "a-.localhost", "a_b.localhost",
    "a" * 64 + ".localhost", ".".join(["a" * 60] * 5), "bücher.example", "xn--zz.localhost",
    "localhost:port", "localhost:123456", "local host", "localhost/x", "[::1", 42,
])
def test_normalize_host_rejects_malformed(raw):
    with pytest.raises(MalformedHost):
        normalize_host(raw)


def test_normalize_host_length_bounds():
    label = "a" * 63
    ok = ".".join([label, label, label, "a" * 61])  # 253 characters
    assert len(ok) == 253 and normalize_host(ok) == ok
    assert normalize_host(ok + ".") == ok
    with pytest.raises(MalformedHost):
        normalize_host(ok + "a")


def test_parse_host_shapes():
    assert parse_host("localhost") == HostInfo(host="localhost", kind="platform")
    assert parse_host("alpha.api.localhost") == HostInfo(host="alpha.api.localhost", kind="api")
    assert parse_host(f"{ACCT}.alpha.api.localhost") == HostInfo(
        host=f"{ACCT}.alpha.api.localhost", kind="tenant", account_number=ACCT)
    assert parse_host(f"Team.{ACCT}.alpha.api.localhost.:80") == HostInfo(
        host=f"team.{ACCT}.alpha.api.localhost", kind="tenant", account_number=ACCT,
        workspace="team")


@pytest.mark.parametrize("raw", [
    f"{ACCT}.beta.api.localhost",          # another environment
    f"{ACCT}.alpha.localhost",              # no api label
    "1234-5678.alpha.api.localhost",        # two groups
    "1234-5678-9012-3456.alpha.api.localhost",
    "12345-678-9012.alpha.api.localhost",
    f"a.b.{ACCT}.alpha.api.localhost",      # too many labels
    f"www.{ACCT}.alpha.api.localhost",      # reserved workspace labels
    f"api.{ACCT}.alpha.api.localhost",
    f"admin.{ACCT}.alpha.api.localhost",
    f"alpha.{ACCT}.alpha.api.localhost",
    f"xn--bcher-kva.{ACCT}.alpha.api.localhost",
    f"{ACCT}.{ACCT}.alpha.api.localhost",
    "x.alpha.api.localhost",
])
def test_parse_host_unknown_shapes(raw):
    with pytest.raises(UnknownHost):
        parse_host(raw)


def test_parse_host_follows_settings():
    with override_settings(ROOT_DOMAIN="example.com", ENVIRONMENT="prod"):
        assert parse_host(f"{ACCT}.prod.api.example.com").account_number == ACCT
        with pytest.raises(UnknownHost):
            parse_host(f"{ACCT}.alpha.api.example.com")
    assert parse_host(f"{ACCT}.alpha.api.localhost").account_number == ACCT


def test_account_number_never_from_path_or_query():
    assert hosts.account_number_in_host(f"{ACCT}.alpha.api.example.com") == ACCT
    assert hosts.account_number_in_host(f"example.com/{ACCT}") is None
    assert hosts.account_number_in_host(f"example.com?account={ACCT}") is None


# --- every host shape through the client ---------------------------------------------------

@pytest.fixture
def acme(tenant_a):
    Workspace.objects.create(user_profile=tenant_a.admin, name="team", is_public=True,
                             description="The public team space")
    return tenant_a


def test_every_host_shape_serves_its_tenant(platform, acme):
    number = acme.account.account_number
    for host, expected in [
        ("localhost", platform.account.company_name),
        ("alpha.api.localhost", platform.account.company_name),
        (f"{number}.alpha.api.localhost", acme.account.company_name),
        (f"team.{number}.alpha.api.localhost", "The public team space"),
    ]:
        response = host_client(host).get("/")
        assert response.status_code == 200, host
        assert expected in response.content.decode(), host
    tenant_page = host_client(acme.host).get("/").content.decode()
    assert platform.account.company_name not in tenant_page


def _long_host(number: str) -> str:
    prefix = ".".join(["a" * 50] * 5)  # a well-formed-looking but over-long name
    return f"{prefix}.{number}.alpha.api.localhost"


BAD_HOSTS = [
    # (id, host template, status); {n} is a known account number, {u} an unknown one
    ("empty", "", 400),
    ("too-long", "LONG", 400),
    ("label-over-63", "{l}.{n}.alpha.api.localhost", 400),
    ("double-dot", "team..{n}.alpha.api.localhost", 400),
    ("leading-dot", ".{n}.alpha.api.localhost", 400),
    ("non-ascii", "tëam.{n}.alpha.api.localhost", 400),
    ("bad-idna", "xn--zz.{n}.alpha.api.localhost", 400),
    ("underscore", "te_am.{n}.alpha.api.localhost", 400),
    ("bad-port", "{n}.alpha.api.localhost:99999999", 400),
    ("not-allowed", "evil.example.com", 400),
    ("two-groups", "1234-5678.alpha.api.localhost", 404),
    ("four-groups", "1234-5678-9012-3456.alpha.api.localhost", 404),
    ("unknown-account", "{u}.alpha.api.localhost", 404),
    ("unknown-account-upper", "{u}.ALPHA.API.LOCALHOST", 404),
    ("unknown-account-dot", "{u}.alpha.api.localhost.", 404),
    ("unknown-account-port", "{u}.alpha.api.localhost:8000", 404),
    ("unknown-workspace", "nope.{n}.alpha.api.localhost", 404),
    ("reserved-www", "www.{n}.alpha.api.localhost", 404),
    ("reserved-api", "api.{n}.alpha.api.localhost", 404),
    ("reserved-admin", "admin.{n}.alpha.api.localhost", 404),
    ("reserved-env", "alpha.{n}.alpha.api.localhost", 404),
    ("wrong-env", "{n}.beta.api.localhost", 404),
    ("no-api-label", "{n}.alpha.localhost", 404),
    ("too-many-labels", "a.team.{n}.alpha.api.localhost", 404),
    ("inactive-account", "{i}.alpha.api.localhost", 404),
    ("inactive-account-workspace", "team.{i}.alpha.api.localhost", 404),
]


@pytest.mark.parametrize(("host", "status"), [(h, s) for _, h, s in BAD_HOSTS],
                         ids=[i for i, _, _ in BAD_HOSTS])
def test_bad_hosts_are_400_or_404_never_500(platform, acme, make_tenant, host, status):
    inactive = make_tenant("sleepy")
    Workspace.objects.create(user_profile=inactive.admin, name="team", is_public=True)
    inactive.account.is_active = False
    inactive.account.save()
    unknown = "9999-9999-9999"
    assert not Account.objects.filter(account_number=unknown).exists()
    number = acme.account.account_number
    host = _long_host(number) if host == "LONG" else host.format(
        n=number, u=unknown, i=inactive.account.account_number, l="a" * 64)
    for path in ("/", "/console/", "/login/", "/admin/"):
        client = host_client(host)
        client.raise_request_exception = False
        response = client.get(path)
        assert response.status_code == status, (host, path)
        body = response.content.decode()
        assert "Traceback" not in body
        assert acme.account.company_name not in body


@pytest.mark.parametrize("variant", [
    "{n}.ALPHA.API.LOCALHOST", "{n}.alpha.api.localhost.", "{n}.alpha.api.localhost:8000",
    "{n}.Alpha.Api.Localhost.:8000", "TEAM.{n}.alpha.api.localhost", "team.{n}.alpha.api.localhost.",
])
def test_upper_case_trailing_dot_and_port_normalise_to_the_known_tenant(acme, variant):
    response = host_client(variant.format(n=acme.account.account_number)).get("/")
    assert response.status_code == 200
    assert acme.account.company_name in response.content.decode()


def test_account_number_in_path_or_query_does_not_select_a_tenant(platform, acme):
    number = acme.account.account_number
    for path in (f"/?account={number}", f"/?account_number={number}",
                 f"/{number}/", f"/{number}.alpha.api.localhost/",
                 f"/console/?account={number}"):
        for host in ("localhost", "alpha.api.localhost"):
            client = host_client(host)
            response = client.get(path)
            assert response.status_code in (200, 302, 404), (host, path)
            body = response.content.decode()
            assert acme.account.company_name not in body, (host, path)
    # On an unknown tenant's host, a known number in the path changes nothing.
    response = host_client("9999-9999-9999.alpha.api.localhost").get(f"/?account={number}")
    assert response.status_code == 404
    assert acme.account.company_name not in response.content.decode()
    # And a request on the root host resolves to the default account.
    response = host_client("localhost").get(f"/?account={number}")
    assert response.wsgi_request.account == platform.account


def test_tenant_host_links_use_normalised_hosts(acme):
    response = host_client(acme.host).get("/")
    assert f"http://team.{acme.account.account_number}.alpha.api.localhost/" in response.content.decode()


def test_forwarded_host_headers_do_not_select_a_tenant(platform, acme):
    tenant = acme.host
    client = host_client("localhost")
    response = client.get("/", HTTP_X_FORWARDED_HOST=tenant, HTTP_FORWARDED=f"host={tenant}",
                          HTTP_X_ORIGINAL_HOST=tenant)
    assert response.status_code == 200
    assert response.wsgi_request.account == platform.account
    assert acme.account.company_name not in response.content.decode()
