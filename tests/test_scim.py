"""SCIM 2.0 provisioning (issue 26): an RFC 7644 client run against the live server.

A real HTTP client (httpx) talks to the live server on loopback with the tenant's Host header and
a token made as the console makes it: create, filter, get, replace, patch, deactivate, delete,
group membership, discovery; a token of account A is 401 on B's host; the audit log names the
source ``scim``; the console creates (shown once) and revokes tokens. DELETE removes the member,
as every surface does (``tests/test_member_actions.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from accounts.models import UserProfile
from audit.models import AuditEvent
from identity.scim.models import ScimToken, ScimUser
from tests.conftest import host_client
from workspaces.models import Workspace

SCIM = "application/scim+json"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"


def _client(live_server, host: str, raw: str | None) -> httpx.Client:  # type: ignore[no-untyped-def]
    port = urlsplit(live_server.url).port
    headers = {"Host": f"{host}:{port}", "Content-Type": SCIM, "Accept": SCIM}
    if raw:
        headers["Authorization"] = f"Bearer {raw}"
    return httpx.Client(base_url=f"http://127.0.0.1:{port}/scim/v2", headers=headers, timeout=30)


@pytest.fixture
def scim(transactional_db, live_server, tenant_a) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    _, raw = ScimToken.create(tenant_a.account, "okta", tenant_a.admin)
    with _client(live_server, tenant_a.host, raw) as client:
        yield client


def _new_user(user_name: str, email: str, **extra: object) -> dict[str, object]:
    return {"schemas": [USER_SCHEMA], "userName": user_name, "externalId": f"ext-{user_name}",
            "name": {"givenName": "Carol", "familyName": "Danvers"},
            "emails": [{"value": email, "primary": True, "type": "work"}], "active": True, **extra}


def _patch(*ops: dict[str, object]) -> dict[str, object]:
    return {"schemas": [PATCH_SCHEMA], "Operations": list(ops)}


def test_rfc7644_user_lifecycle(scim, tenant_a) -> None:  # type: ignore[no-untyped-def]
    mail.outbox.clear()
    # Create: a member of the host's account at once, no invitation mail.
    resp = scim.post("/Users", json=_new_user("carol@alpha.test", "carol@alpha.test"))
    assert resp.status_code == 201, resp.text
    assert resp.headers["content-type"].startswith(SCIM)
    carol = resp.json()
    assert carol["userName"] == "carol@alpha.test" and carol["active"] is True
    assert carol["groups"][0]["value"] == "member"
    assert resp.headers["location"].endswith(f"/scim/v2/Users/{carol['id']}")
    profile = UserProfile.objects.get(account=tenant_a.account, user__email="carol@alpha.test")
    assert profile.is_active and profile.role == "member" and profile.created_user
    assert not profile.user.has_usable_password()
    assert mail.outbox == []
    # The same userName again (any case): 409 uniqueness.
    dup = scim.post("/Users", json=_new_user("CAROL@alpha.test", "other@alpha.test"))
    assert dup.status_code == 409 and dup.json()["scimType"] == "uniqueness"

    # Filter by userName (case-insensitive, as SCIM's userName is) and get.
    found = scim.get("/Users", params={"filter": 'userName eq "Carol@Alpha.test"'}).json()
    assert found["totalResults"] == 1 and found["Resources"][0]["id"] == carol["id"]
    none = scim.get("/Users", params={"filter": 'userName eq "nobody@alpha.test"'}).json()
    assert none["totalResults"] == 0
    assert scim.get("/Users", params={"filter": "userName eq"}).status_code == 400
    assert scim.get("/Users", params={"filter": 'id eq "not-a-uuid"'}).json()["totalResults"] == 0
    assert scim.get("/Users", params={"filter": 'title eq "x"'}).status_code == 400
    assert scim.get("/Users/not-a-uuid").status_code == 404
    for bad_body in (b"[1]", b"{", b'"x"'):
        assert scim.patch(f"/Users/{carol['id']}", content=bad_body).status_code == 400
        assert scim.post("/Users", content=bad_body).status_code == 400
    search = scim.post("/Users/.search", json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'userName eq "carol@alpha.test"'})
    assert search.status_code == 200 and search.json()["totalResults"] == 1
    assert scim.get(f"/Users/{carol['id']}").json()["emails"][0]["value"] == "carol@alpha.test"

    # Replace (PUT): every attribute.
    body = _new_user("carol.d@alpha.test", "carol.d@alpha.test")
    body["name"] = {"givenName": "Carol", "familyName": "Marvel"}
    put = scim.put(f"/Users/{carol['id']}", json=body)
    assert put.status_code == 200, put.text
    assert put.json()["userName"] == "carol.d@alpha.test"
    assert put.json()["name"]["familyName"] == "Marvel"

    # Patch: Entra ID style (capitalised op, string boolean, path-less map).
    resp = scim.patch(f"/Users/{carol['id']}", json=_patch(
        {"op": "Replace", "path": "name.givenName", "value": "Caroline"},
        {"op": "replace", "value": {"externalId": "ext-2"}}))
    assert resp.status_code == 200, resp.text
    assert resp.json()["name"]["givenName"] == "Caroline" and resp.json()["externalId"] == "ext-2"

    # PATCH active=false deactivates the membership.
    resp = scim.patch(f"/Users/{carol['id']}",
                      json=_patch({"op": "Replace", "path": "active", "value": "False"}))
    assert resp.status_code == 200 and resp.json()["active"] is False
    profile.refresh_from_db()
    assert not profile.is_active
    assert scim.patch(f"/Users/{carol['id']}", json=_patch(
        {"op": "replace", "value": {"active": True}})).json()["active"] is True

    # DELETE removes the member as every surface does (accounts.actions.members): the resource
    # and the membership go, what they owned goes to an admin, their user stays.
    space = Workspace.objects.create(user_profile=profile, name="carols-space")
    assert scim.delete(f"/Users/{carol['id']}").status_code == 204
    assert scim.get(f"/Users/{carol['id']}").status_code == 404
    assert not UserProfile.objects.filter(pk=profile.pk).exists()
    assert Workspace.objects.get(pk=space.pk).user_profile_id == tenant_a.admin.pk
    assert get_user_model().objects.filter(pk=profile.user_id).exists()

    # Every change is in the audit log with source scim, naming the token.
    events = AuditEvent.objects.filter(account=tenant_a.account, source="scim")
    assert events.filter(target_kind="accounts.userprofile", action="created").exists()
    assert events.filter(target_kind="scim.scimuser", action="deleted").exists()
    assert events.filter(target_kind="accounts.userprofile", action="deleted").exists()
    assert all(e.source_label.startswith("SCIM token scim_") for e in events)


def test_groups_are_roles(scim, tenant_a) -> None:  # type: ignore[no-untyped-def]
    groups = scim.get("/Groups").json()
    assert {g["id"] for g in groups["Resources"]} == {"admin", "member"}
    dave = scim.post("/Users", json=_new_user("dave", "dave@alpha.test")).json()
    erin = scim.post("/Users", json=_new_user("erin", "erin@alpha.test")).json()

    resp = scim.patch("/Groups/admin", json=_patch(
        {"op": "add", "path": "members", "value": [{"value": dave["id"]}, {"value": erin["id"]}]}))
    assert resp.status_code == 200, resp.text
    assert {m["value"] for m in resp.json()["members"]} == {dave["id"], erin["id"]}
    assert UserProfile.objects.get(account=tenant_a.account, user__email="dave@alpha.test").role == "admin"
    assert scim.get(f"/Users/{dave['id']}").json()["groups"][0]["value"] == "admin"

    # Remove by a value filter path (Entra ID), then PUT replaces the members.
    resp = scim.patch("/Groups/admin", json=_patch(
        {"op": "remove", "path": f'members[value eq "{dave["id"]}"]'}))
    assert [m["value"] for m in resp.json()["members"]] == [erin["id"]]
    assert UserProfile.objects.get(account=tenant_a.account, user__email="dave@alpha.test").role == "member"
    resp = scim.put("/Groups/admin", json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Account admins", "members": [{"value": dave["id"]}]})
    assert [m["value"] for m in resp.json()["members"]] == [dave["id"]]
    assert UserProfile.objects.get(account=tenant_a.account, user__email="erin@alpha.test").role == "member"

    found = scim.get("/Groups", params={"filter": 'displayName eq "Account admins"'}).json()
    assert [g["id"] for g in found["Resources"]] == ["admin"]
    assert scim.get("/Groups/owners").status_code == 404
    assert scim.post("/Groups", json={"displayName": "Engineering"}).status_code == 501
    assert scim.delete("/Groups/admin").status_code == 501
    bad = scim.patch("/Groups/admin",
                     json=_patch({"op": "add", "path": "members", "value": [{"value": "nope"}]}))
    assert bad.status_code == 400


def test_existing_member_is_linked_and_outsiders_never_adopted(scim, tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    # A member of this account (same email) is linked, not duplicated; their user is not rewritten.
    resp = scim.post("/Users", json=_new_user("alpha-member", "member@alpha.test"))
    assert resp.status_code == 201
    assert ScimUser.objects.get(account=tenant_a.account).user_profile == tenant_a.member
    # B's member (another account) is never adopted: a new user, owned by A, is made.
    resp = scim.post("/Users", json=_new_user("bravo-member", "member@bravo.test"))
    assert resp.status_code == 201
    made = ScimUser.objects.get(account=tenant_a.account, user_name="bravo-member").user_profile
    assert made.user != tenant_b.member.user and made.created_user
    # The username B's member holds stays theirs: the new user gets a suffixed one.
    assert get_user_model().objects.filter(username="bravo-member").get() == tenant_b.member.user
    assert made.user.username.startswith("bravo-member-")
    assert not UserProfile.objects.filter(account=tenant_a.account, user=tenant_b.member.user).exists()


def test_last_admin_is_kept(scim, tenant_a) -> None:  # type: ignore[no-untyped-def]
    resp = scim.post("/Users", json=_new_user("alpha-admin", "admin@alpha.test"))
    assert resp.status_code == 201
    admin = resp.json()
    resp = scim.patch(f"/Users/{admin['id']}",
                      json=_patch({"op": "replace", "path": "active", "value": False}))
    assert resp.status_code == 400 and resp.json()["scimType"] == "mutability"
    assert scim.delete(f"/Users/{admin['id']}").status_code == 400
    tenant_a.admin.refresh_from_db()
    assert tenant_a.admin.is_active and tenant_a.admin.role == "admin"


def test_discovery_endpoints(scim) -> None:  # type: ignore[no-untyped-def]
    config = scim.get("/ServiceProviderConfig").json()
    assert config["patch"]["supported"] and config["filter"]["supported"]
    assert config["authenticationSchemes"][0]["type"] == "oauthbearertoken"
    types = {t["id"]: t for t in scim.get("/ResourceTypes").json()["Resources"]}
    assert types["User"]["endpoint"] == "/scim/v2/Users" and "Group" in types
    schemas = {s["id"] for s in scim.get("/Schemas").json()["Resources"]}
    assert USER_SCHEMA in schemas
    assert scim.get(f"/Schemas/{USER_SCHEMA}").status_code == 200


def test_tokens_are_per_account(transactional_db, live_server, tenant_a, tenant_b) -> None:  # type: ignore[no-untyped-def]
    token_a, raw_a = ScimToken.create(tenant_a.account, "okta", tenant_a.admin)
    with _client(live_server, tenant_a.host, raw_a) as a:
        assert a.post("/Users", json=_new_user("frank", "frank@alpha.test")).status_code == 201
    # A's token on B's host: 401, as a wrong, missing or revoked token.
    with _client(live_server, tenant_b.host, raw_a) as on_b:
        for resp in (on_b.get("/Users"), on_b.post("/Users", json=_new_user("x", "x@bravo.test")),
                     on_b.get("/ServiceProviderConfig")):
            assert resp.status_code == 401, resp.text
            assert resp.headers["www-authenticate"].startswith("Bearer")
    assert not UserProfile.objects.filter(account=tenant_b.account, user__username="x").exists()
    for raw in (None, "nope", raw_a[:-2] + "xx", "scim_0123456789ab.abcdefghijklmnopqrstuvwxyz"):
        with _client(live_server, tenant_a.host, raw) as bad:
            assert bad.get("/Users").status_code == 401
    token_a.revoke()
    with _client(live_server, tenant_a.host, raw_a) as revoked:
        assert revoked.get("/Users").status_code == 401


def test_scim_only_on_tenant_hosts(transactional_db, live_server, tenant_a) -> None:  # type: ignore[no-untyped-def]
    from django.conf import settings

    _, raw = ScimToken.create(tenant_a.account, "okta", tenant_a.admin)
    for host in (settings.ROOT_DOMAIN, f"{settings.ENVIRONMENT}.api.{settings.ROOT_DOMAIN}"):
        with _client(live_server, host, raw) as client:
            assert client.get("/Users").status_code == 404


def test_failed_tokens_are_limited_per_address(scim, tenant_a, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_AUTH_FAILURE_LIMIT = 3
    wrong = "scim_0123456789ab.abcdefghijklmnopqrstuvwxyz"
    statuses = [scim.get("/Users", headers={"Authorization": f"Bearer {wrong}"}).status_code
                for _ in range(5)]
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429]


def test_requests_are_rate_limited_per_token(scim, settings) -> None:  # type: ignore[no-untyped-def]
    settings.API_RATE_LIMIT = "3/minute"
    statuses = [scim.get("/ServiceProviderConfig").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]


def test_console_creates_and_revokes_tokens(tenant_a) -> None:  # type: ignore[no-untyped-def]
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    resp = admin.post("/console/security/scim/", {"name": "Okta"})
    assert resp.status_code == 200 and resp["Cache-Control"] == "no-store"
    token = ScimToken.objects.get(account=tenant_a.account)
    raw = resp.context["new_token"]
    assert raw.startswith(token.prefix + ".") and token.matches(raw)
    assert raw not in admin.get("/console/security/scim/").content.decode()  # shown once
    assert admin.get(f"/console/security/scim/{token.pk}/revoke/").status_code == 200  # asks first
    assert admin.post(f"/console/security/scim/{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert not token.is_active
    assert AuditEvent.objects.filter(account=tenant_a.account, target_kind="scim.scimtoken",
                                     source="console").count() == 2
    member = host_client(tenant_a.host, tenant_a.member.user)
    assert member.get("/console/security/scim/").status_code == 403
    assert host_client(tenant_a.host).get("/console/security/scim/").status_code == 302
