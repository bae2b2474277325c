"""Hostile hosts: property tests of host parsing and of the request edge (custom domains too).

Every input either parses or raises one of the documented exceptions (``MalformedHost``,
``UnknownHost``); ``account_number_from_url`` returns None or an ASCII ``dddd-dddd-dddd``;
through the client no Host header gives a 500; unknown account numbers neither grow the
level-1 cache past its bound nor query the database more than once per number per TTL.
"""

from __future__ import annotations

import re

import pytest
from cachetools import TTLCache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.utils import account_number_from_url
from tenancy.cache import tenant_cache
from tenancy.hosts import HostInfo, MalformedHost, UnknownHost, normalize_host, parse_host, tenant_host
from tests.conftest import host_client
from tests.support.domain_support import bucket_keys, verified_domain

ACCOUNT_RE = re.compile(r"^[0-9]{4}-[0-9]{4}-[0-9]{4}$")
EXAMPLES = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Digits that look like ASCII digits: full-width, Arabic-Indic, Devanagari, mathematical bold.
LOOKALIKE_DIGITS = "０１２３４５６７８９٠١٢٣٤٥٦٧٨٩०१२३४५६७८९𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗"
digit = st.sampled_from("0123456789" + LOOKALIKE_DIGITS)
number_like = st.builds(
    lambda a, b, c, sep, tail: f"{''.join(a)}{sep}{''.join(b)}{sep}{''.join(c)}{tail}",
    st.lists(digit, min_size=3, max_size=5), st.lists(digit, min_size=4, max_size=4),
    st.lists(digit, min_size=4, max_size=5), st.sampled_from(["-", "‐", "－", "_", ""]),
    st.sampled_from(["", "\n", "\r\n", " ", "\x00", "."]),
)
label = st.text(alphabet=st.characters(codec="utf-8"), max_size=70) | st.from_regex(
    r"[a-z0-9-]{0,64}", fullmatch=True)
hosts = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
    number_like.map(lambda n: f"{n}.alpha.api.testserver"),
    st.builds(lambda w, n: f"{w}.{n}.alpha.api.testserver", label, number_like),
    st.lists(label, min_size=1, max_size=200).map(".".join),
    st.integers(min_value=250, max_value=20000).map(lambda n: "a" * n + ".testserver"),
    st.integers(min_value=2, max_value=500).map(lambda n: "a." * n + "testserver"),
    st.builds(lambda h, p: f"{h}:{p}", st.text(max_size=40), st.text(max_size=8)),
)


def _check_info(info: HostInfo) -> None:
    assert info.host.isascii()
    if info.account_number is not None:
        assert ACCOUNT_RE.fullmatch(info.account_number)


@EXAMPLES
@given(hosts)
def test_parse_and_normalize_raise_only_documented_errors(raw: str) -> None:
    try:
        host = normalize_host(raw)
    except MalformedHost:
        pass
    else:
        assert host == host.lower() and host.isascii() and len(host) <= 255
    try:
        _check_info(parse_host(raw))
    except (MalformedHost, UnknownHost):
        pass


@EXAMPLES
@given(st.one_of(hosts, hosts.map(lambda h: f"https://{h}/path?x=1"),
                 number_like.map(lambda n: f"https://x.test/{n}"), number_like))
def test_account_number_from_url_is_none_or_ascii_number(url: str) -> None:
    result = account_number_from_url(url)
    assert result is None or (isinstance(result, str) and ACCOUNT_RE.fullmatch(result))
    if result is not None:
        assert "\n" not in result and result.isascii()


@pytest.mark.parametrize("url", [
    "3141-5926-5359\n", "https://3141-5926-5359\n.alpha.api.example.com/",
    "３１４１-５９２６-５３５９.alpha.api.example.com", "٣١٤١-٥٩٢٦-٥٣٥٩.alpha.api.example.com",
    "https://example.com/3141-5926-5359", "https://example.com/?a=3141-5926-5359",
])
def test_look_alike_and_path_numbers_are_not_account_numbers(url: str) -> None:
    assert account_number_from_url(url) is None


def test_a_real_tenant_host_yields_its_number() -> None:
    assert account_number_from_url("https://team.3141-5926-5359.alpha.api.example.com/x") == "3141-5926-5359"


@pytest.mark.parametrize("bad", [b"3141", 3141, ["x"], object()])
def test_account_number_from_url_type_error_only_for_non_str(bad: object) -> None:
    with pytest.raises(TypeError):
        account_number_from_url(bad)  # type: ignore[arg-type]


@pytest.mark.django_db
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(hosts)
def test_no_host_header_gives_a_500(raw: str) -> None:
    try:
        client = host_client(raw)
        response = client.get("/")
    except UnicodeEncodeError:  # the test client itself cannot send this header
        return
    assert response.status_code < 500, (raw, response.status_code)


@pytest.mark.django_db
@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.from_regex(r"[0-9]{4}-[0-9]{4}-[0-9]{4}", fullmatch=True),
                min_size=20, max_size=40, unique=True))
def test_unknown_numbers_do_not_grow_the_l1_cache_past_its_bound(numbers: list[str]) -> None:
    old = tenant_cache.misses  # unknown numbers are cached here, per process only
    tenant_cache.misses = misses = TTLCache(8, 600)
    try:
        for n in numbers:
            assert host_client(tenant_host(n)).get("/").status_code == 404
            assert len(misses) <= misses.maxsize
            assert len(tenant_cache.l1) <= 2  # real tenants' level 1 is left alone
    finally:
        tenant_cache.misses = old
        tenant_cache.clear_local()


@pytest.mark.django_db
def test_same_unknown_number_hits_the_database_once(platform) -> None:  # type: ignore[no-untyped-def]
    host = tenant_host("9999-0000-1234")
    client = host_client(host)

    def account_queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/").status_code == 404
        return sum("accounts_account" in q["sql"] for q in ctx.captured_queries)

    assert account_queries() >= 1  # the first miss is looked up (proves the counter works)
    assert account_queries() == 0  # the second is served from the cached miss
    # Another process (level 1 empty) looks it up once itself: misses of numbers a client
    # chose are never stored in level 2 (shared memory must not grow per distinct number).
    tenant_cache.clear_local()
    assert account_queries() == 1
    assert account_queries() == 0


CUSTOM = "shop.fuzz-corp.test"
domain_label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
custom_hosts = st.one_of(
    st.lists(domain_label, min_size=2, max_size=5).map(".".join),
    st.builds(lambda case, dot, port: "".join(c.upper() if u else c
                                              for c, u in zip(CUSTOM, case, strict=True)) + dot + port,
              st.lists(st.booleans(), min_size=len(CUSTOM), max_size=len(CUSTOM)),
              st.sampled_from(["", "."]), st.sampled_from(["", ":80", ":8443", ":x", ":99999999"])),
    st.builds(lambda head, tail: f"{head}{CUSTOM}{tail}", st.sampled_from(["", "x", "x.", ".", "-"]),
              st.sampled_from(["", ".evil.test", "x", "..", "\n", " "])),
    hosts,
)


@pytest.mark.django_db
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(custom_hosts)
def test_custom_domain_hosts_never_500_and_only_the_verified_one_is_served(tenant_a, raw: str) -> None:  # type: ignore[no-untyped-def]
    verified_domain(tenant_a.admin, CUSTOM)
    try:
        response = host_client(raw).get("/")
    except UnicodeEncodeError:
        return
    assert response.status_code < 500, (raw, response.status_code)
    try:
        served = normalize_host(raw) == CUSTOM
    except MalformedHost:
        served = False
    assert (response.status_code == 200) == served, (raw, response.status_code)
    if served:
        assert response.wsgi_request.account == tenant_a.account


@pytest.mark.django_db
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(st.lists(domain_label, min_size=2, max_size=4).map(".".join), min_size=20, max_size=40,
                unique=True))
def test_unknown_custom_hosts_stay_bounded_in_both_cache_levels(names: list[str]) -> None:
    import domains.hostnames

    old, old_buckets = tenant_cache.l1, domains.hostnames.BUCKETS
    tenant_cache.l1 = l1 = TTLCache(8, 600)
    domains.hostnames.BUCKETS = 4
    try:
        for name in names:
            assert host_client(name).get("/").status_code in (400, 404)
            assert len(l1) <= l1.maxsize
        keys = bucket_keys()
        assert len({k.rsplit(":", 1)[-1] for k in keys}) <= 4  # level 2: one key per bucket
        assert not any(name in k for k in keys for name in names)
    finally:
        tenant_cache.l1, domains.hostnames.BUCKETS = old, old_buckets
        tenant_cache.clear_local()
