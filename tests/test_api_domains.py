"""/api/v1/domains/: add (with the DNS records to create), verify, workspace, canonical,
remove; 409 for a name another account holds; admins write, members read; per tenant."""

from __future__ import annotations

import pytest

from domains.models import Domain
from tests.conftest import host_client
from tests.support.dns_server import dns_zone  # noqa: F401 - fixture
from workspaces.models import Workspace

from .support.api_support import api_for, assert_error

pytestmark = pytest.mark.django_db
HOST = "shop.alpha-corp.test"


def test_add_verify_serve_canonical_remove(tenant_a, dns_zone, settings):  # type: ignore[no-untyped-def]  # noqa: F811
    settings.CUSTOM_DOMAIN_TARGET = "edge.platform.test"
    api = api_for(tenant_a.admin)
    resp = api.post("domains/", {"hostname": "Shop.Alpha-Corp.test."})
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["hostname"] == HOST and body["status"] == "pending" and body["workspace"] is None
    assert body["dns_records"] == [
        {"type": "CNAME", "name": HOST, "value": "edge.platform.test"},
        {"type": "TXT", "name": f"_smarter-challenge.{HOST}", "value": body["token"]},
    ]
    pk = body["id"]
    assert api.post(f"domains/{pk}/verify/").json()["status"] == "pending"
    dns_zone.set(f"_smarter-challenge.{HOST}", "TXT", body["token"])
    verified = api.post(f"domains/{pk}/verify/").json()
    assert verified["status"] == "verified" and verified["verified_at"]
    assert host_client(HOST).get("/").status_code == 200

    Workspace.objects.create(user_profile=tenant_a.admin, name="store", is_public=True)
    assert api.patch(f"domains/{pk}/", {"workspace": "store"}).json()["workspace"] == "store"
    assert host_client(HOST).get("/").wsgi_request.workspace.name == "store"
    error = assert_error(api.patch(f"domains/{pk}/", {"hostname": "other.test"}), 400)  # set once
    assert "hostname" in error["fields"] and Domain.objects.get(pk=pk).hostname == HOST

    assert api.post(f"domains/{pk}/canonical/", {"canonical": True}).json()["is_canonical"] is True
    resp = host_client(tenant_a.workspace_host("store")).get("/")
    assert resp.status_code == 302 and resp["Location"] == f"http://{HOST}/"
    assert api.get("domains/").json()["results"][0]["is_canonical"] is True  # the API is not redirected
    assert api.post(f"domains/{pk}/canonical/", {"canonical": False}).json()["is_canonical"] is False

    assert api.delete(f"domains/{pk}/").status_code == 204
    assert not Domain.objects.exists()
    assert host_client(HOST).get("/").status_code == 400


def test_claimed_name_is_a_conflict_for_another_account(tenant_a, tenant_b, dns_zone):  # type: ignore[no-untyped-def]  # noqa: F811
    assert api_for(tenant_a.admin).post("domains/", {"hostname": HOST}).status_code == 201
    error = assert_error(api_for(tenant_b.admin).post("domains/", {"hostname": HOST.upper()}), 409)
    assert "hostname" in error["fields"]
    assert Domain.objects.get().account_id == tenant_a.account.pk


@pytest.mark.parametrize("hostname", ["", "localhost", "x.alpha.api.localhost", "a_b.test", "1.2.3.4",
                                      "app.test:443", 12, None])
def test_bad_names_are_400(tenant_a, hostname):  # type: ignore[no-untyped-def]
    error = assert_error(api_for(tenant_a.admin).post("domains/", {"hostname": hostname}), 400)
    assert "hostname" in error["fields"]


def test_canonical_needs_a_verified_domain(tenant_a):  # type: ignore[no-untyped-def]
    api = api_for(tenant_a.admin)
    pk = api.post("domains/", {"hostname": HOST}).json()["id"]
    assert_error(api.post(f"domains/{pk}/canonical/", {"canonical": True}), 409)
    assert_error(api.post(f"domains/{pk}/canonical/", {"canonical": "yes"}), 400)


def test_members_read_admins_write_other_tenants_see_nothing(tenant_a, tenant_b):  # type: ignore[no-untyped-def]
    pk = api_for(tenant_a.admin).post("domains/", {"hostname": HOST}).json()["id"]
    member = api_for(tenant_a.member)
    assert member.get("domains/").json()["count"] == 1
    assert_error(member.post("domains/", {"hostname": "x.alpha-corp.test"}), 403)
    assert_error(member.post(f"domains/{pk}/verify/"), 403)
    assert_error(member.delete(f"domains/{pk}/"), 403)
    other = api_for(tenant_b.admin)
    assert other.get("domains/").json()["count"] == 0
    for resp in (other.get(f"domains/{pk}/"), other.delete(f"domains/{pk}/"),
                 other.post(f"domains/{pk}/verify/"), other.patch(f"domains/{pk}/", {"workspace": None})):
        assert_error(resp, 404)
    theirs = Workspace.objects.create(user_profile=tenant_b.admin, name="theirs")
    error = assert_error(api_for(tenant_a.admin).patch(f"domains/{pk}/", {"workspace": theirs.name}), 400)
    assert "workspace" in error["fields"]
    assert Domain.objects.filter(pk=pk, workspace=None).exists()


@pytest.mark.parametrize("workspace", ["a\x00b", "team\x00", "\x00"])
def test_a_workspace_name_with_a_nul_character_is_400_not_500(tenant_a, workspace):  # type: ignore[no-untyped-def]
    """PostgreSQL refuses NUL in text, so the name must be refused before it reaches a query
    (schemathesis found the 500 on POST and PATCH)."""
    api = api_for(tenant_a.admin)
    error = assert_error(api.post("domains/", {"hostname": "nul.example.org", "workspace": workspace}), 400)
    assert "workspace" in error["fields"]
    created = api.post("domains/", {"hostname": "fine.example.org"})
    assert created.status_code == 201, created.content
    error = assert_error(api.patch(f"domains/{created.json()['id']}/", {"workspace": workspace}), 400)
    assert "workspace" in error["fields"]


def test_the_pending_limit_and_a_takeover_through_the_api(tenant_a, tenant_b, dns_zone, settings):  # type: ignore[no-untyped-def]  # noqa: F811
    """The API adds domains through the same rule as the console: 400 past the account's
    pending limit; another account's unproven claim is a 409 naming the TXT value that proves
    it, then taken over once the record carries it."""
    settings.CUSTOM_DOMAIN_MAX_PENDING = 1
    a_api, b_api = api_for(tenant_a.admin), api_for(tenant_b.admin)
    assert a_api.post("domains/", {"hostname": HOST}).status_code == 201
    error = assert_error(a_api.post("domains/", {"hostname": "two.alpha-corp.test"}), 400)
    assert "1 domain waiting for verification" in error["fields"]["hostname"][0]
    conflict = assert_error(b_api.post("domains/", {"hostname": HOST}), 409)
    token = conflict["fields"]["hostname"][0].split(" with the value ")[1].split(" ")[0]
    dns_zone.set(f"_smarter-challenge.{HOST}", "TXT", token)
    taken = b_api.post("domains/", {"hostname": HOST})
    assert taken.status_code == 201
    assert taken.json()["status"] == "verified" and taken.json()["token"] == token
    assert Domain.objects.get().account_id == tenant_b.account.pk
