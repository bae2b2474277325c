"""The console redesign (issue 24): one layout with a sidebar grouped by job, the overview,
members searched and paginated on the server in a constant number of queries, confirmation
pages before destructive actions, the audit log in sentences, the Security page."""

from __future__ import annotations

import re

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext

from accounts.actions.members import MemberChangeRefused
from accounts.models import ApiKey, Invitation, UserProfile
from console.views.members import COUNT_CAP, PAGE_SIZE, SEARCH_COUNT_CAP, SEARCH_TEXT, SearchText
from domains.models import Domain
from tests.conftest import host_client
from tests.support.api_support import make_key

User = get_user_model()


@pytest.fixture
def admin(tenant_a):
    return host_client(tenant_a.host, tenant_a.admin.user)


def _add_members(tenant, count: int, start: int = 0) -> None:
    users = User.objects.bulk_create(
        User(username=f"m{i:05d}", email=f"m{i}@alpha.test", first_name="Grace" if i % 2 else "Ada",
             last_name=f"Hopper{i}" if i % 3 == 0 else f"Lovelace{i}")
        for i in range(start, start + count))
    UserProfile.objects.bulk_create(UserProfile(user=u, account=tenant.account) for u in users)


def _current(page: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" aria-current="page">', page)


# --- the layout ---------------------------------------------------------------------------------

def test_sidebar_groups_pages_by_job_and_marks_the_current_one(tenant_a, admin):
    page = admin.get("/console/members/").content.decode()
    nav = page[page.index('<nav class="console-nav"'):page.index("</nav>", page.index('class="console-nav"'))]
    groups = re.findall(r'<h2 class="console-nav-group"[^>]*>([^<]+)</h2>', nav)
    assert groups == ["People", "Settings", "Data", "Danger zone"]
    for label in ("Members", "Invitations", "Account", "Contacts", "Workspaces", "Domains",
                  "Security", "API keys", "Audit log", "Export", "Close account"):
        assert f">{label}</a>" in nav, label
    # The danger zone comes last, apart from the rest.
    assert nav.index("console-nav-danger") > nav.index(">Export</a>")
    assert _current(page) == ["/console/members/"]
    member = UserProfile.objects.get(pk=tenant_a.member.pk)
    assert _current(admin.get(f"/console/members/{member.pk}/").content.decode()) == ["/console/members/"]
    assert _current(admin.get("/console/security/").content.decode()) == ["/console/security/"]
    assert _current(admin.get("/console/close/").content.decode()) == ["/console/close/"]
    assert "console.css" in page and "style=" not in page and "<script" not in page


def test_security_group_is_extensible(tenant_a, admin, monkeypatch):
    """Other apps add sign-in rules (SSO, SCIM) under Security; it stays marked on them."""
    from console import navigation

    monkeypatch.setattr(navigation.SECURITY, "children", [navigation.Entry("Audit", "audit-log")])
    page = admin.get("/console/audit/").content.decode()
    assert 'href="/console/security/" class="open">Security</a>' in page
    assert _current(page) == ["/console/audit/", "/console/audit/"]  # Data's entry and the child


# --- overview -----------------------------------------------------------------------------------

def test_overview_shows_people_workspaces_domains_and_recent_activity(tenant_a, admin):
    admin.post("/console/invitations/", {"email": "new@alpha.test", "role": "member"})
    Domain.objects.create(user_profile=tenant_a.admin, hostname="app.alpha-corp.test")
    page = admin.get("/console/").content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Members 2 active 1 admin" in text
    assert "Invitations 1 pending" in text
    assert "Workspaces 0 in all" in text
    assert "app.alpha-corp.test Pending" in text
    assert "alpha-admin invited new@alpha.test as member." in text
    assert 'id="usage"' in page


def test_overview_queries_do_not_grow_with_the_account(tenant_a, admin):
    admin.get("/console/")
    with CaptureQueriesContext(connection) as small:
        assert admin.get("/console/").status_code == 200
    _add_members(tenant_a, 120)
    for i in range(12):
        Domain.objects.create(user_profile=tenant_a.admin, hostname=f"d{i}.alpha-corp.test")
    with CaptureQueriesContext(connection) as large:
        page = admin.get("/console/").content.decode()
    assert len(large) == len(small)
    assert "Members 122 active" in re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "All domains" in page


# --- members ------------------------------------------------------------------------------------

def test_members_table_shows_name_email_role_two_factor_last_sign_in(tenant_a, admin):
    member = tenant_a.member.user
    member.first_name, member.last_name = "Bob", "Builder"
    member.save()
    Authenticator.objects.create(user=member, type=Authenticator.Type.TOTP, data={})
    page = admin.get("/console/members/").content.decode()
    row = page[page.index(f'data-member="{member.username}"'):]
    row = row[:row.index("</tr>")]
    assert "Bob Builder" in row and member.email in row and "Member" in row
    assert '<span class="on">On</span>' in row and "never" in row
    me = page[page.index(f'data-member="{tenant_a.admin.user.username}"'):]
    assert '<span class="off">Off</span>' in me[:me.index("</tr>")]


def test_last_sign_in_is_this_accounts_own_never_another_accounts(tenant_a, tenant_b, admin):
    """A person in two accounts signs in on B: A's admins must not learn it (User.last_login
    is global); signing in on A shows on A's members page and member page."""
    from accounts.provisioning import add_member
    from tests.conftest import PASSWORD

    both = tenant_b.member.user
    profile_a, _ = add_member(tenant_a.account, both.username, email=both.email)
    on_b = host_client(tenant_b.host)
    assert on_b.post("/login/", {"login": both.username, "password": PASSWORD}).status_code == 302
    both.refresh_from_db()
    assert both.last_login is not None  # the global stamp moved...

    def shown(path: str) -> str:
        page = admin.get(path).content.decode()
        row = page[page.index(f'data-member="{both.username}"'):] if "data-member" in page else page
        return row[:row.index("</tr>")] if "</tr>" in row else page

    assert "never" in shown("/console/members/")  # ...but A shows no sign-in to A
    assert "Last sign-in</dt><dd>never" in admin.get(f"/console/members/{profile_a.pk}/").content.decode()
    assert UserProfile.objects.get(user=both, account=tenant_b.account).last_sign_in_at is not None
    on_a = host_client(tenant_a.host)
    assert on_a.post("/login/", {"login": both.username, "password": PASSWORD}).status_code == 302
    stamp = UserProfile.objects.get(pk=profile_a.pk).last_sign_in_at
    assert stamp is not None and stamp.strftime("%Y-%m-%d %H:%M") in shown("/console/members/")


def test_members_search_and_pagination_in_constant_queries(tenant_a, admin):
    _add_members(tenant_a, 5)
    admin.get("/console/members/")  # warm: the session, the user and their membership
    with CaptureQueriesContext(connection) as few:
        assert admin.get("/console/members/").status_code == 200
    _add_members(tenant_a, 2 * PAGE_SIZE, start=5)
    with CaptureQueriesContext(connection) as many:
        first = admin.get("/console/members/").content.decode()
    assert len(many) == len(few)
    assert first.count("data-member=") == PAGE_SIZE
    assert "Page 1 of 3" in first and 'rel="next"' in first
    last = admin.get("/console/members/?page=3").content.decode()
    assert last.count("data-member=") == 2 * PAGE_SIZE + 5 + 2 - 2 * PAGE_SIZE
    # One person by part of the email; every word must match (name and surname).
    found = admin.get("/console/members/", {"q": "M42@ALPHA"}).content.decode()
    assert re.findall(r'data-member="([^"]+)"', found) == ["m00042"]
    both = admin.get("/console/members/", {"q": "grace hopper"}).content.decode()
    names = re.findall(r'data-member="([^"]+)"', both)
    assert names and all(int(n[1:]) % 2 == 1 and int(n[1:]) % 3 == 0 for n in names)
    assert "match “grace hopper”" in both
    nobody = admin.get("/console/members/", {"q": "zz-nobody (.*"}).content.decode()
    assert "Nobody matches" in nobody  # the search is literal, never a pattern
    with CaptureQueriesContext(connection) as search:
        admin.get("/console/members/", {"q": "grace hopper", "page": "2"})
    assert len(search) == len(few)


def test_a_search_word_never_spans_two_fields(tenant_a, admin):
    _add_members(tenant_a, 3)  # m00001: "m00001 m1@alpha.test Grace Lovelace1"
    assert re.findall(r'data-member="([^"]+)"', admin.get(
        "/console/members/", {"q": "test grace"}).content.decode()) == ["m00001"]
    for spanning in ("m00001m1", "testgrace", "test.grace", "gracelovelace"):
        assert "Nobody matches" in admin.get("/console/members/", {"q": spanning}).content.decode()


def test_every_word_of_a_search_is_served_by_one_trigram_index(tenant_a):
    """The search's expression is the index's (accounts 0015), so PostgreSQL ANDs every word
    in one index scan instead of rechecking the first word's matches row by row."""
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's")
    on_users = SearchText(*(F(f.name.removeprefix("user__")) for f in SEARCH_TEXT.source_expressions))
    query = User.objects.alias(text=on_users).filter(text__iregex="grace").filter(
        text__iregex="hopper").values("pk")
    sql, params = query.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = [row[0] for row in cursor.fetchall()]
    scans = [i for i, line in enumerate(plan) if "Index Scan on auth_user_search_trgm" in line]
    assert len(scans) == 1, plan
    condition = plan[scans[0] + 1]
    assert "Index Cond" in condition and "'grace'" in condition and "'hopper'" in condition, plan


def test_members_count_is_capped_past_a_thousand(tenant_a, admin, monkeypatch):
    monkeypatch.setattr("console.views.members.COUNT_CAP", 10)
    _add_members(tenant_a, 11)
    page = admin.get("/console/members/").content.decode()
    assert "More than 10 members." in page and "Search to find someone." in page
    assert COUNT_CAP == 1000


def test_a_search_counts_fewer_matches_than_the_list_counts_members(tenant_a, admin, monkeypatch):
    """Each match a search counts costs a trigram recheck: past its (lower) cap it asks for
    another word, and its pages stop there; the list still counts to its own cap."""
    monkeypatch.setattr("console.views.members.COUNT_CAP", 20)
    monkeypatch.setattr("console.views.members.SEARCH_COUNT_CAP", 4)
    monkeypatch.setattr("console.views.members.PAGE_SIZE", 2)
    _add_members(tenant_a, 12)  # 6 named Grace; 2 of them Hopper (m00003, m00009)
    grace = admin.get("/console/members/", {"q": "grace"}).content.decode()
    assert "More than 4 members match “grace”. Add a word to narrow the search." in grace
    assert "Page 1 of 2" in grace
    assert "Page 2 of 2" in admin.get("/console/members/", {"q": "grace", "page": "2"}).content.decode()
    exact = admin.get("/console/members/", {"q": "grace hopper"}).content.decode()
    assert "2 members match “grace hopper”." in exact and "More than" not in exact
    listed = admin.get("/console/members/").content.decode()
    assert "14 members." in listed and "More than" not in listed and "Page 1 of 7" in listed
    assert SEARCH_COUNT_CAP == 200


def test_member_page_and_removal_asks_first(tenant_a, admin):
    member = tenant_a.member
    make_key(member, name="bots")
    page = admin.get(f"/console/members/{member.pk}/").content.decode()
    assert "Set role" in page and "Deactivate" in page and f"/console/members/{member.pk}/remove/" in page
    confirm = admin.get(f"/console/members/{member.pk}/remove/")
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert "from the account?" in text and "now belongs to <strong>alpha-admin</strong>" in text
    assert "1 API key stops working" in text
    assert UserProfile.objects.filter(pk=member.pk).exists()  # asking removes nothing
    assert admin.post(f"/console/members/{member.pk}/remove/").status_code == 302
    assert not UserProfile.objects.filter(pk=member.pk).exists()
    own = admin.get(f"/console/members/{tenant_a.admin.pk}/remove/", follow=True)
    assert MemberChangeRefused.OWN_MEMBERSHIP_MESSAGE in own.content.decode()


def test_role_change_returns_to_the_member(tenant_a, admin):
    member = tenant_a.member
    response = admin.post(f"/console/members/{member.pk}/role/", {"role": "admin"}, follow=True)
    assert response.redirect_chain[-1][0] == f"/console/members/{member.pk}/"
    assert "alpha-member is now Account admin." in response.content.decode()


# --- confirmations --------------------------------------------------------------------------------

def test_revoking_an_invitation_asks_first(tenant_a, admin):
    admin.post("/console/invitations/", {"email": "later@alpha.test", "role": "member"})
    invitation = Invitation.objects.get(account=tenant_a.account, email="later@alpha.test")
    listing = admin.get("/console/invitations/").content.decode()
    assert f'href="/console/invitations/{invitation.pk}/revoke/"' in listing
    page = admin.get(f"/console/invitations/{invitation.pk}/revoke/").content.decode()
    assert "stops working at once" in page and "later@alpha.test" in page
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is None
    admin.post(f"/console/invitations/{invitation.pk}/revoke/")
    assert Invitation.objects.get(pk=invitation.pk).revoked_at is not None
    again = admin.get(f"/console/invitations/{invitation.pk}/revoke/").content.decode()
    assert "nothing to revoke" in again


def test_revoking_an_api_key_asks_first(tenant_a, tenant_b, admin):
    key, _ = make_key(tenant_a.admin, name="ci-0")
    page = admin.get(f"/console/api-keys/{key.pk}/revoke/").content.decode()
    assert "Revoke the API key “ci-0”?" in page and ApiKey.objects.get(pk=key.pk).is_active
    admin.post(f"/console/api-keys/{key.pk}/revoke/")
    assert not ApiKey.objects.get(pk=key.pk).is_active
    other, _ = make_key(tenant_b.admin, name="theirs")
    assert admin.get(f"/console/api-keys/{other.pk}/revoke/").status_code == 404


# --- settings -------------------------------------------------------------------------------------

def test_account_details_choose_from_lists_with_help_for_people(tenant_a, admin):
    page = admin.get("/console/account/").content.decode()
    for name in ("language", "timezone", "currency"):
        assert re.search(rf'<select name="{name}"', page), name
    assert "Europe/Berlin" in page and "EUR" in page
    assert "Shown to your members at the top of every page" in page
    assert "require_mfa" not in page  # on the Security page now


# --- the audit log ----------------------------------------------------------------------------------

def test_audit_log_reads_as_sentences_with_changes_folded(tenant_a, admin):
    admin.post("/console/invitations/", {"email": "bob@x.test", "role": "member"})
    admin.post(f"/console/members/{tenant_a.member.pk}/role/", {"role": "admin"})
    admin.post("/console/workspaces/", {"name": "design"})
    page = admin.get("/console/audit/").content.decode()
    assert "alpha-admin invited bob@x.test as member." in page
    assert "alpha-admin changed alpha-member&#x27;s role from member to admin." in page
    assert "alpha-admin created the workspace design." in page
    assert '<details class="changes"><summary>' in page
    assert "accounts.userprofile" not in page.split('id="audit-events"')[1]  # no raw kinds
    assert "annotations" not in page


def test_audit_filters_are_selects_and_dates_say_when_they_are_wrong(tenant_a, admin):
    page = admin.get("/console/audit/").content.decode()
    for name in ("action", "target_kind", "actor", "source"):
        assert re.search(rf'<select name="{name}"', page), name
    assert '<option value="alpha-member">alpha-member</option>' in page
    assert 'type="date"' in page
    kinds = admin.get("/console/audit/", {"target_kind": "accounts.userprofile"}).content.decode()
    assert "added alpha-member as member." in kinds
    bad = admin.get("/console/audit/", {"since": "2026-12-05", "until": "2026-12-01"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "“Until” (2026-12-01) is before “From” (2026-12-05)." in text and 'aria-invalid="true"' in text
    assert admin.get("/console/audit/", {"since": "3.12.2026"}).status_code == 400


def test_member_rows_escape_what_people_typed(tenant_a, admin):
    """The rows are built in Python (console_members): every value is escaped as the template
    language would."""
    user = User.objects.create(username="x<b>y", email="q@alpha.test", first_name='<img src=x onerror="1">',
                               last_name="&co")
    UserProfile.objects.create(user=user, account=tenant_a.account)
    page = admin.get("/console/members/").content.decode()
    row = page[page.index('data-member="x&lt;b&gt;y"'):]
    row = row[:row.index("</tr>")]
    assert "<img" not in row and "<b>" not in row
    assert "&lt;img src=x onerror=&quot;1&quot;&gt; &amp;co" in row and ">x&lt;b&gt;y<" in row
