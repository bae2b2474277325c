"""/api/v1/workspaces/: CRUD with the host-label name rules, 409 on duplicates, isolation."""

from __future__ import annotations

import pytest

from workspaces.models import Workspace

from .support.api_support import api_for, assert_error

pytestmark = pytest.mark.django_db


def test_crud(tenant_a):
    api = api_for(tenant_a.admin)
    response = api.post("workspaces/", {"name": "team", "description": "Our team", "is_public": True})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["owner"] == tenant_a.admin.pk
    workspace = Workspace.objects.get(pk=created["id"])
    assert (workspace.account_id, workspace.is_public) == (tenant_a.account.pk, True)
    assert api.get("workspaces/").json()["results"][0]["name"] == "team"
    assert api.get(f"workspaces/{created['id']}/").json()["description"] == "Our team"
    response = api.patch(f"workspaces/{created['id']}/", {"name": "crew", "is_public": False})
    assert response.status_code == 200 and response.json()["name"] == "crew"
    assert Workspace.objects.get(pk=created["id"]).name == "crew"
    assert api.delete(f"workspaces/{created['id']}/").status_code == 204
    assert not Workspace.objects.filter(pk=created["id"]).exists()


def test_created_workspace_is_served_on_its_host(tenant_a, client):
    api_for(tenant_a.admin).post("workspaces/", {"name": "open", "is_public": True})
    assert client.get("/", HTTP_HOST=tenant_a.workspace_host("open")).status_code == 200


@pytest.mark.parametrize("name", ["Team", "-team", "team-", "www", "api", "admin", "a_b", "x" * 64, ""])
def test_name_rules(tenant_a, name):
    error = assert_error(api_for(tenant_a.admin).post("workspaces/", {"name": name}), 400)
    assert "name" in error["fields"]
    assert not Workspace.objects.filter(account=tenant_a.account).exists()


def test_duplicate_name_is_409_but_other_tenants_may_reuse_it(tenant_a, tenant_b):
    api = api_for(tenant_a.admin)
    api.post("workspaces/", {"name": "team"})
    error = assert_error(api.post("workspaces/", {"name": "team"}), 409, "conflict")
    assert "name" in error["fields"]
    other = api.post("workspaces/", {"name": "other"}).json()
    assert_error(api.patch(f"workspaces/{other['id']}/", {"name": "team"}), 409)
    assert api_for(tenant_b.admin).post("workspaces/", {"name": "team"}).status_code == 201


def test_members_read_but_cannot_write(tenant_a):
    workspace = Workspace.objects.create(user_profile=tenant_a.admin, name="team")
    api = api_for(tenant_a.member)
    assert api.get("workspaces/").json()["count"] == 1
    assert api.get(f"workspaces/{workspace.pk}/").status_code == 200
    assert_error(api.post("workspaces/", {"name": "mine"}), 403)
    assert_error(api.patch(f"workspaces/{workspace.pk}/", {"name": "mine"}), 403)
    assert_error(api.delete(f"workspaces/{workspace.pk}/"), 403)
    assert Workspace.objects.get(pk=workspace.pk).name == "team"


def test_other_tenants_workspaces_are_invisible(tenant_a, tenant_b, platform):
    theirs = Workspace.objects.create(user_profile=tenant_b.admin, name="secret")
    Workspace.objects.create(user_profile=platform.admin, name="platform-wide")
    api = api_for(tenant_a.admin)
    assert api.get("workspaces/").json()["count"] == 0  # also no platform rows on a tenant host
    assert_error(api.get(f"workspaces/{theirs.pk}/"), 404)
    assert_error(api.patch(f"workspaces/{theirs.pk}/", {"name": "stolen"}), 404)
    assert_error(api.delete(f"workspaces/{theirs.pk}/"), 404)
    assert Workspace.objects.get(pk=theirs.pk).name == "secret"


def test_non_integer_id_is_404(tenant_a):
    assert_error(api_for(tenant_a.admin).get("workspaces/abc/"), 404)
