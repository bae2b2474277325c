"""Issue 24 items 1-3: the bare domain's front page, one sign-in there for every active user
(one account: straight there; several: the chooser), the hand-offs a signed-in person asks for
(POST + CSRF from their own session, to accounts where they are an active member, rate
limited, single use, host-bound), what a non-member of the default account sees on the bare
domain, and the header's account switcher (no query on a warm page)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pyotp
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from accounts.models import Account, HandoffToken, UserProfile
from accounts.provisioning import add_member
from domains.canonical import set_canonical
from tests.conftest import PASSWORD, host_client
from tests.support.domain_support import verified_domain
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db
BARE = "localhost"
HANDOFF = re.compile(r"^http://(?P<host>[^/:]+)(?::\d+)?(?P<path>/accounts/handoff/[^/]+/)(?P<query>\?.*)?$")


def _sign_in(login: str, client: Client | None = None, **extra: str) -> tuple[Client, str]:
    client = client or host_client(BARE)
    response = client.post("/login/", {"login": login, "password": PASSWORD}, **extra)
    assert response.status_code == 302, response.content[:400]
    return client, response["Location"]


def _redeem(url: str) -> tuple[Client, str]:
    """Follow a hand-off link on its own host: the new client and where it lands."""
    match = HANDOFF.match(url)
    assert match, url
    client = host_client(match["host"])
    response = client.get(match["path"] + (match["query"] or ""))
    assert response.status_code == 302, (url, response.status_code)
    return client, response["Location"]


def _user_on(client: Client, path: str = "/") -> str | None:
    user = client.get(path).wsgi_request.user
    return user.get_username() if user.is_authenticated else None


# --- 1. the front page -------------------------------------------------------------------
def test_the_front_page_says_what_it_is_and_offers_every_way_in(platform):
    page = host_client(BARE).get("/").content.decode()
    assert "No workspaces to show" not in page
    for text in ("Workspaces for every team", 'href="/accounts/signup/"', 'href="/login/"',
                 'href="/accounts/find/"'):
        assert text in page, text


def test_an_operator_shows_the_default_accounts_own_content(platform, settings):
    Workspace.objects.create(user_profile=platform.admin, name="news", is_public=True)
    Workspace.objects.create(user_profile=platform.admin, name="internal")
    settings.PLATFORM_FRONT_PAGE = "both"
    both = host_client(BARE).get("/").content.decode()
    assert "Workspaces for every team" in both and ">news<" in both and "internal" not in both
    settings.PLATFORM_FRONT_PAGE = "account"
    only = host_client(BARE).get("/").content.decode()
    assert "Workspaces for every team" not in only and ">news<" in only and "internal" not in only
    member = host_client(BARE, platform.member.user).get("/").content.decode()
    assert "internal" in member  # a member of the default account sees its private ones


# --- 2. one sign-in on the bare domain -----------------------------------------------------
def test_one_account_goes_straight_there_signed_in(platform, tenant_a):
    bare, url = _sign_in("alpha-admin")  # not a member of the default account: admitted here
    assert urlsplit(url).hostname == tenant_a.host
    there, landing = _redeem(url)
    assert landing == "/console/"  # an admin: the console
    assert _user_on(there, "/console/") == "alpha-admin"
    _, url = _sign_in("alpha-member")
    there, landing = _redeem(url)
    assert landing == "/" and _user_on(there) == "alpha-member"


def test_two_accounts_choose_then_land_signed_in(platform, tenant_a, tenant_b):
    add_member(tenant_b.account, "alpha-member")
    bare, url = _sign_in("member@alpha.test")  # by email address too
    assert url == "/accounts/choose/"
    page = bare.get(url).content.decode()
    assert "Alpha Corp" in page and "Bravo Corp" in page
    assert HandoffToken.objects.count() == 0  # nothing issued until the person picks
    picked = bare.post("/accounts/switch/", {"account": tenant_b.account.account_number})
    assert picked.status_code == 302
    there, landing = _redeem(picked["Location"])
    assert urlsplit(picked["Location"]).hostname == tenant_b.host
    assert _user_on(there, landing) == "alpha-member"
    assert _user_on(bare, "/accounts/choose/") == "alpha-member"  # still signed in here


def test_a_wrong_password_on_the_bare_domain_is_refused_as_before(platform, tenant_a):
    response = host_client(BARE).post("/login/", {"login": "alpha-admin", "password": "wrong"})
    assert response.status_code == 200 and not response.wsgi_request.user.is_authenticated
    assert HandoffToken.objects.count() == 0


def test_sign_in_with_totp_on_the_bare_domain(platform, tenant_a):
    secret = generate_totp_secret()
    TOTP.activate(tenant_a.member.user, secret)
    bare, stage = _sign_in("alpha-member")
    assert stage == "/accounts/2fa/authenticate/"
    assert HandoffToken.objects.count() == 0
    done = bare.post(stage, {"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 302 and urlsplit(done["Location"]).hostname == tenant_a.host
    there, landing = _redeem(done["Location"])
    assert _user_on(there, landing) == "alpha-member"


def test_sign_in_on_a_tenant_host_stays_as_it_is(platform, tenant_a, tenant_b):
    refused = host_client(tenant_b.host).post("/login/", {"login": "alpha-member", "password": PASSWORD})
    assert refused.status_code == 200 and not refused.wsgi_request.user.is_authenticated
    client, landing = _sign_in("alpha-member", host_client(tenant_a.host))
    assert landing == "/" and HandoffToken.objects.count() == 0


def test_an_authenticated_get_of_the_sign_in_page_issues_nothing(platform, tenant_a):
    bare, _ = _sign_in("alpha-member")
    HandoffToken.objects.all().delete()
    again = bare.get("/login/")
    assert again.status_code == 302 and again["Location"] == "/accounts/choose/"
    assert HandoffToken.objects.count() == 0


# --- a non-member of the default account on the bare domain --------------------------------
def test_a_non_member_sees_the_chooser_and_their_pages_but_nothing_of_the_default_account(
        platform, tenant_a):
    Workspace.objects.create(user_profile=platform.admin, name="internal")  # private
    bare, _ = _sign_in("alpha-member")
    for path in ("/", "/accounts/choose/", "/accounts/password/change/", "/accounts/email/",
                 "/accounts/2fa/"):
        response = bare.get(path)
        assert response.status_code == 200, path
        assert response.wsgi_request.user.get_username() == "alpha-member", path
        assert response.wsgi_request.user_profile is None, path
    assert "internal" not in bare.get("/").content.decode()
    console = bare.get("/console/")
    assert console.status_code == 302 and "/login/" in console["Location"]
    assert not console.wsgi_request.user.is_authenticated
    assert bare.get("/admin/").status_code == 302
    assert not bare.get("/admin/").wsgi_request.user.is_authenticated
    assert bare.get("/api/v1/workspaces/").status_code in (401, 403)


def test_a_person_with_no_account_left_is_told_so(platform, tenant_a):
    UserProfile.objects.filter(pk=tenant_a.member.pk).update(is_active=False)
    bare, url = _sign_in("alpha-member")
    assert url == "/accounts/choose/"
    page = bare.get(url).content.decode()
    assert "not an active member of any account" in page and 'name="account"' not in page
    assert HandoffToken.objects.count() == 0


def test_a_default_account_member_stays_on_the_bare_domain(platform):
    _, url = _sign_in("platform-member")
    assert url == "/"


# --- hand-offs a person asks for: refused cases ------------------------------------------
@pytest.fixture
def in_two(platform, tenant_a, tenant_b):  # type: ignore[no-untyped-def]
    add_member(tenant_b.account, "alpha-member")
    bare, _ = _sign_in("alpha-member")
    return bare, tenant_a, tenant_b


def test_switch_needs_a_post_with_csrf_from_a_signed_in_session(in_two):
    bare, _, b = in_two
    number = b.account.account_number
    assert bare.get("/accounts/switch/", {"account": number}).status_code == 405
    strict = Client(HTTP_HOST=BARE, enforce_csrf_checks=True)
    strict.cookies[settings.SESSION_COOKIE_NAME] = bare.cookies[settings.SESSION_COOKIE_NAME].value
    assert strict.post("/accounts/switch/", {"account": number}).status_code == 403
    anonymous = host_client(BARE).post("/accounts/switch/", {"account": number})
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert host_client(BARE).post("/accounts/switch/", {"account": "nope"}).status_code == 302
    assert bare.post("/accounts/switch/", {"account": "nope"}).status_code == 400
    assert HandoffToken.objects.count() == 0


def test_switch_only_into_active_memberships_of_active_accounts(in_two, make_tenant):
    bare, a, b = in_two
    stranger = make_tenant("charlie")
    assert bare.post("/accounts/switch/", {"account": stranger.account.account_number}).status_code == 404
    UserProfile.objects.filter(user__username="alpha-member", account=b.account).update(is_active=False)
    from accounts.caching import memberships_key
    from tenancy.cache import tenant_cache
    tenant_cache.invalidate(memberships_key(a.member.user.pk))
    assert bare.post("/accounts/switch/", {"account": b.account.account_number}).status_code == 404
    Account.objects.get(pk=a.account.pk).close() if hasattr(Account, "close") else None
    a.account.is_active = False
    a.account.save()
    assert bare.post("/accounts/switch/", {"account": a.account.account_number}).status_code == 404
    assert HandoffToken.objects.count() == 0


def test_a_hand_off_is_single_use_and_bound_to_its_host(in_two):
    bare, a, b = in_two
    url = bare.post("/accounts/switch/", {"account": b.account.account_number})["Location"]
    match = HANDOFF.match(url)
    assert match
    elsewhere = host_client(a.host).get(match["path"])
    assert elsewhere.status_code == 404  # another tenant's host
    _redeem(url)
    replayed = host_client(b.host).get(match["path"])
    assert replayed.status_code == 404 and not replayed.wsgi_request.user.is_authenticated


def test_a_hand_off_made_before_the_membership_ended_signs_nobody_in(in_two):
    bare, _, b = in_two
    url = bare.post("/accounts/switch/", {"account": b.account.account_number})["Location"]
    UserProfile.objects.filter(user__username="alpha-member", account=b.account).update(is_active=False)
    match = HANDOFF.match(url)
    assert match
    response = host_client(b.host).get(match["path"])
    assert response.status_code == 403 and not response.wsgi_request.user.is_authenticated


def test_a_hand_off_for_the_number_host_is_refused_on_the_accounts_custom_domain(in_two):
    """The token is bound to the host it was issued for, not to the account: the account's
    custom domain (same account) does not take it; the number host still does."""
    bare, _, b = in_two
    verified_domain(b.admin, "app.bravo-corp.test")
    url = bare.post("/accounts/switch/", {"account": b.account.account_number})["Location"]
    match = HANDOFF.match(url)
    assert match and match["host"] == b.host
    on_domain = host_client("app.bravo-corp.test").get(match["path"])
    assert on_domain.status_code == 404 and not on_domain.wsgi_request.user.is_authenticated
    _, landing = _redeem(url)  # not consumed by the refusal
    assert landing == "/"


def test_hand_off_next_is_a_path_of_that_host_only(in_two):
    bare, _, b = in_two
    url = bare.post("/accounts/switch/", {"account": b.account.account_number})["Location"]
    match = HANDOFF.match(url)
    assert match
    response = host_client(b.host).get(match["path"] + "?next=https://evil.test/")
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_hand_off_is_redeemed_on_the_number_host_of_an_account_with_a_canonical_domain(in_two):
    """The switcher's form-action admits the platform's tenant hosts only: the hand-off is not
    sent on to the account's canonical custom domain."""
    bare, _, b = in_two
    domain = verified_domain(b.admin, "app.bravo-canonical.test")
    set_canonical(b.account, domain)
    url = bare.post("/accounts/switch/", {"account": b.account.account_number})["Location"]
    assert urlsplit(url).hostname == b.host
    there, landing = _redeem(url)
    assert landing == "/"  # signed in on the number host (its pages then go to the domain)
    assert there.get("/console/").wsgi_request.user.get_username() == "alpha-member"


def test_switching_is_rate_limited(in_two, settings):
    bare, _, b = in_two
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "handoff": "30/m/ip,3/m/user"}
    codes = [bare.post("/accounts/switch/", {"account": b.account.account_number}).status_code
             for _ in range(4)]
    assert codes == [302, 302, 302, 429]


# --- 3. the header's account switcher ----------------------------------------------------
def _member_of(n: int, make_tenant, prefix: str = "t"):  # type: ignore[no-untyped-def]
    tenants = [make_tenant(f"{prefix}{i}x") for i in range(n)]
    for t in tenants[1:]:
        add_member(t.account, tenants[0].member.user.username)
    return tenants


def test_the_switcher_moves_between_accounts_from_a_tenant_host(platform, make_tenant):
    first, second = _member_of(2, make_tenant)
    client = host_client(first.host, first.member.user)
    page = client.get("/").content.decode()
    assert 'id="account-menu"' in page and "T1X Corp" in page
    assert f'value="{second.account.account_number}"' in page
    assert f'value="{first.account.account_number}"' not in page  # not the one we are in
    assert "Sign in to another account" in page
    moved = client.post("/accounts/switch/", {"account": second.account.account_number})
    there, landing = _redeem(moved["Location"])
    assert _user_on(there, landing) == first.member.user.username


def test_the_switcher_costs_no_query_on_a_warm_page(platform, make_tenant):
    """The same queries with 1 and with 6 accounts once warm, none of them memberships or
    accounts (measured: 3 on both backends: the session, the user, the page's workspaces)."""
    counts = {}
    for n in (1, 6):
        tenants = _member_of(n, make_tenant, prefix=f"n{n}t")
        client = host_client(tenants[0].host, tenants[0].member.user)
        client.get("/")  # warm the caches
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/").content.decode()
        assert page.count('name="account"') == n - 1
        counts[n] = len(queries)
        sqls = " ".join(q["sql"] for q in queries.captured_queries)
        assert "accounts_userprofile" not in sqls and "accounts_account" not in sqls, sqls
    assert counts[1] == counts[6], counts


def test_the_switcher_lists_a_few_and_links_the_chooser_for_the_rest(platform, make_tenant, settings):
    settings.ACCOUNT_SWITCHER_SIZE = 2
    tenants = _member_of(4, make_tenant)
    page = host_client(tenants[0].host, tenants[0].member.user).get("/").content.decode()
    assert page.count('name="account"') == 2 and "All your accounts" in page
    assert "/accounts/choose/" in page


def test_a_superuser_header_lists_only_their_own_memberships(platform, make_tenant):
    make_tenant("one"), make_tenant("two")
    page = host_client(BARE, platform.admin.user).get("/").content.decode()
    assert 'name="account"' not in page
