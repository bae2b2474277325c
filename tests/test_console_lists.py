"""The console's contacts and workspaces pages at a big customer's size: a page shows at most
a page of rows, pages and searches on the server, and sends as many statements for an account
of 2 rows as for one of 2 pages and more (console/paging.py)."""

from __future__ import annotations

import re

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import AccountContact
from console.paging import PAGE_SIZE, search
from tests.conftest import host_client
from workspaces.models import Workspace


@pytest.fixture
def admin(tenant_a):
    AccountContact.objects.filter(account=tenant_a.account).delete()  # the lists hold the tests' rows
    return host_client(tenant_a.host, tenant_a.admin.user)


def add_contacts(tenant, count: int, start: int = 0) -> None:
    AccountContact.objects.bulk_create(
        AccountContact(account=tenant.account, email=f"c{i:04d}@alpha.test",
                       first_name="Grace" if i % 2 else "Ada", last_name=f"Hopper{i}")
        for i in range(start, start + count))


def add_workspaces(tenant, count: int, start: int = 0) -> None:
    Workspace.objects.bulk_create(
        Workspace(account=tenant.account, user_profile=tenant.admin, name=f"team-{i:04d}")
        for i in range(start, start + count))


def contacts_on(page: str) -> list[str]:
    return re.findall(r"<tr><td>(c\d+@alpha\.test) ", page)


def workspaces_on(page: str) -> list[str]:
    return re.findall(r"<tr><td>(team-\d+)</td>", page)


LISTS = [("/console/contacts/", add_contacts, contacts_on, "contact"),
         ("/console/workspaces/", add_workspaces, workspaces_on, "workspace")]


@pytest.mark.parametrize(("path", "add", "rows_on", "noun"), LISTS)
def test_a_page_shows_at_most_a_page_in_constant_statements(tenant_a, admin, path, add, rows_on, noun):
    add(tenant_a, 2)
    admin.get(path)  # warm: the session, the user and their membership
    with CaptureQueriesContext(connection) as few:
        assert len(rows_on(admin.get(path).content.decode())) == 2
    add(tenant_a, 2 * PAGE_SIZE + 3, start=2)
    with CaptureQueriesContext(connection) as many:
        first = admin.get(path).content.decode()
    assert len(many) == len(few)
    total = 2 * PAGE_SIZE + 5
    shown = rows_on(first)
    assert len(shown) == PAGE_SIZE and shown == sorted(shown)
    assert f"{total} {noun}s." in first and "Page 1 of 3" in first and 'rel="next"' in first
    last = rows_on(admin.get(path, {"page": "3"}).content.decode())
    assert len(last) == 5 and last[0] > shown[-1]
    with CaptureQueriesContext(connection) as searched:
        admin.get(path, {"q": "00", "page": "2"})
    assert len(searched) == len(few)


@pytest.mark.parametrize(("path", "add", "rows_on", "noun"), LISTS)
def test_the_count_stops_at_its_cap(tenant_a, admin, path, add, rows_on, noun, monkeypatch):
    monkeypatch.setattr("console.paging.COUNT_CAP", 3)
    add(tenant_a, 4)
    page = admin.get(path).content.decode()
    assert f"More than 3 {noun}s." in page and "Search to find one." in page


def test_contacts_search_by_address_or_name_every_word_literal(tenant_a, admin):
    add_contacts(tenant_a, 30)
    AccountContact.objects.filter(email="c0007@alpha.test").update(is_primary=True)
    assert contacts_on(admin.get("/console/contacts/").content.decode())[0] == "c0007@alpha.test"
    found = admin.get("/console/contacts/", {"q": "C0012@ALPHA"}).content.decode()
    assert contacts_on(found) == ["c0012@alpha.test"] and "1 contact match “C0012@ALPHA”." in found
    both = contacts_on(admin.get("/console/contacts/", {"q": "grace hopper1"}).content.decode())
    assert both == [f"c{i:04d}@alpha.test" for i in (1, 11, 13, 15, 17, 19)]
    nobody = admin.get("/console/contacts/", {"q": "zz (.*"}).content.decode()
    assert contacts_on(nobody) == [] and "No contact matches “zz (.*”." in nobody


def test_workspaces_search_by_name(tenant_a, admin):
    add_workspaces(tenant_a, 30)
    found = admin.get("/console/workspaces/", {"q": "TEAM-001"}).content.decode()
    assert workspaces_on(found) == [f"team-{i:04d}" for i in range(10, 20)]
    assert "10 workspaces match “TEAM-001”." in found and "Show everyone" in found
    assert "No workspace matches" in admin.get("/console/workspaces/", {"q": "x.y"}).content.decode()


def explain(sql: str, params: tuple) -> list[str]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # as on a big account: the tests'
        cursor.execute("SET LOCAL enable_sort = off")  # few rows make a scan and a sort cheap
        cursor.execute(f"EXPLAIN {sql}", params)
        return [row[0] for row in cursor.fetchall()]


def test_pages_and_searches_read_an_index_that_starts_with_the_account(tenant_a):
    """The contacts page in its order (accounts 0017) and the workspaces page by name (the
    unique constraint's index) can read a page of the account's rows in page order without a
    sort (a Sort in the plan would mean no index matches the order); a search reads only the
    account's rows (an index condition on the account)."""
    if connection.vendor != "postgresql":
        pytest.skip("the plans are PostgreSQL's")
    from console.views.contacts import ORDER
    from console.views.contacts import SEARCH_TEXT as CONTACT_TEXT
    from console.views.workspaces import SEARCH_TEXT as WORKSPACE_TEXT

    contacts = AccountContact.objects.filter(account=tenant_a.account).order_by(*ORDER)
    spaces = Workspace.objects.filter(account=tenant_a.account).order_by("name")
    for rows, index in ((contacts, "accounts_contact_page"), (spaces, "workspaces_unique_name_per_account")):
        plan = "\n".join(explain(*rows[:PAGE_SIZE].query.sql_with_params()))
        assert f"Index Scan using {index}" in plan and "Sort" not in plan, plan
    for rows in (search(contacts, "grace hopper", CONTACT_TEXT), search(spaces, "team", WORKSPACE_TEXT)):
        plan = "\n".join(explain(*rows[:PAGE_SIZE].query.sql_with_params()))
        assert "Seq Scan" not in plan and f"(account_id = {tenant_a.account.pk})" in plan, plan
