"""Issue 24 item 6: workspace pages show something real: name, description, who can see it,
the members (to members only, capped, in constant queries) and the product's content block;
the tenant home lists workspaces as cards."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.provisioning import add_member
from tests.conftest import host_client
from workspaces.models import Workspace
from workspaces.views import MEMBERS_SHOWN

pytestmark = pytest.mark.django_db


@pytest.fixture
def spaces(tenant_a):  # type: ignore[no-untyped-def]
    public = Workspace.objects.create(user_profile=tenant_a.admin, name="team", is_public=True,
                                      description="Where the whole team meets.")
    private = Workspace.objects.create(user_profile=tenant_a.admin, name="board",
                                       description="Board papers.")
    return public, private


def test_a_public_workspace_says_anyone_and_lists_nobody_to_strangers(tenant_a, spaces):
    text = host_client(tenant_a.workspace_host("team")).get("/").content.decode()
    assert "Where the whole team meets." in text
    assert "anyone can see it" in text
    assert 'id="workspace-content"' in text and "Nothing has been shared in team yet." in text
    assert 'id="workspace-members"' not in text and "alpha-member" not in text


def test_a_private_workspace_shows_members_to_members(tenant_a, spaces):
    tenant_a.member.user.first_name, tenant_a.member.user.last_name = "Ada", "Lovelace"
    tenant_a.member.user.save()
    response = host_client(tenant_a.workspace_host("board"), tenant_a.member.user).get("/")
    text = response.content.decode()
    assert response.status_code == 200
    assert "only its members can see it" in text and "Board papers." in text
    assert "Ada Lovelace" in text and "alpha-admin" in text
    assert "People in Alpha Corp" in text and "(2)" in text


def test_a_private_workspace_sends_strangers_to_sign_in(tenant_a, tenant_b, spaces):
    for who in (None, tenant_b.member.user):
        response = host_client(tenant_a.workspace_host("board"), who).get("/")
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_member_list_is_capped_and_costs_the_same_at_any_size(tenant_a, spaces):
    client = host_client(tenant_a.workspace_host("board"), tenant_a.member.user)
    client.get("/")
    with CaptureQueriesContext(connection) as few:
        client.get("/")
    for i in range(MEMBERS_SHOWN + 5):
        add_member(tenant_a.account, f"extra-{i:02d}")
    with CaptureQueriesContext(connection) as many:
        text = client.get("/").content.decode()
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    assert f"({MEMBERS_SHOWN + 7})" in text and "and 7 more." in text
    assert text.count('class="person-name"') == MEMBERS_SHOWN


def test_admins_get_a_link_to_everyone(tenant_a, spaces):
    for i in range(MEMBERS_SHOWN):
        add_member(tenant_a.account, f"extra-{i:02d}")
    text = host_client(tenant_a.workspace_host("board"), tenant_a.admin.user).get("/").content.decode()
    assert "See everyone in the console" in text
    text = host_client(tenant_a.workspace_host("board"), tenant_a.member.user).get("/").content.decode()
    assert "See everyone in the console" not in text


def test_the_home_lists_workspaces_as_cards(tenant_a, spaces):
    anonymous = host_client(tenant_a.host).get("/").content.decode()
    assert anonymous.count('class="card workspace-card"') == 1
    assert "Where the whole team meets." in anonymous and "Board papers." not in anonymous
    member = host_client(tenant_a.host, tenant_a.member.user).get("/").content.decode()
    assert member.count('class="card workspace-card"') == 2 and "Members only" in member


def test_an_empty_home_says_what_to_do(tenant_a):
    assert "Create one in the console" in host_client(
        tenant_a.host, tenant_a.admin.user).get("/").content.decode()
    assert "No public workspaces to show" in host_client(tenant_a.host).get("/").content.decode()


def test_a_product_fills_the_content_block(tenant_a, spaces, settings, tmp_path):
    (tmp_path / "product.html").write_text(
        '{% extends "workspaces/workspace.html" %}{% block workspace_content %}'
        '<p id="product">Quarterly plan</p>{% endblock %}')
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    settings.WORKSPACE_PAGE_TEMPLATE = "product.html"
    text = host_client(tenant_a.workspace_host("team")).get("/").content.decode()
    assert '<p id="product">Quarterly plan</p>' in text and "Nothing has been shared" not in text
    assert "anyone can see it" in text
