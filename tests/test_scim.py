"""SCIM 2.0 provisioning (issue 26): an RFC 7644 client run against the live server.

A real HTTP client (httpx) talks to the live server on loopback with the tenant's Host header and
a token made as the console makes it: create, filter, get, replace, patch, deactivate, delete,
group membership, discovery; a token of account A is 401 on B's host; the audit log names the
source ``scim``; the console creates (shown once) and revokes tokens. DELETE removes the member,
as every surface does (``tests/test_member_actions.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
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
ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"


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
    # ListResponses carry totalResults (RFC 7644 3.4.2); endpoints are relative (RFC 7643 6).
    listed = scim.get("/ResourceTypes").json()
    assert listed["totalResults"] == len(listed["Resources"]) == 2
    types = {t["id"]: t for t in listed["Resources"]}
    assert types["User"]["endpoint"] == "/Users" and types["Group"]["endpoint"] == "/Groups"
    assert types["User"]["meta"]["location"].endswith("/scim/v2/ResourceTypes/User")
    schemas = scim.get("/Schemas").json()
    assert schemas["totalResults"] == len(schemas["Resources"]) == 2
    assert USER_SCHEMA in {s["id"] for s in schemas["Resources"]}
    user_schema = scim.get(f"/Schemas/{USER_SCHEMA}")
    assert user_schema.status_code == 200
    assert user_schema.json()["meta"]["location"].endswith(f"/scim/v2/Schemas/{USER_SCHEMA}")
    # Unknown ids, paths and methods answer SCIM errors, whose status is a string (RFC 7644 3.12).
    for path in ("/Schemas/urn:nope", "/ResourceTypes/Nope", "/Nope", "/Users/not-a-uuid"):
        resp = scim.get(path)
        assert resp.status_code == 404 and resp.headers["content-type"].startswith(SCIM), path
        assert resp.json()["status"] == "404" and ERROR_SCHEMA in resp.json()["schemas"], path
    resp = scim.post("/Schemas", json={})
    assert resp.status_code == 405 and resp.json()["status"] == "405"
    assert scim.get("/Users", params={"filter": "userName eq"}).json()["status"] == "400"


def test_the_user_schema_advertises_only_what_is_stored(scim) -> None:  # type: ignore[no-untyped-def]
    """Every readWrite attribute the published User schema names comes back as it was sent."""
    schema = scim.get(f"/Schemas/{USER_SCHEMA}").json()
    writable = {a["name"]: a for a in schema["attributes"] if a["mutability"] == "readWrite"}
    assert not {"title", "phoneNumbers", "addresses", "nickName"} & {a["name"] for a in schema["attributes"]}

    def sample(attribute: dict[str, Any]) -> Any:
        if attribute["type"] == "complex":
            value = {s["name"]: sample(s) for s in attribute["subAttributes"]
                     if s["mutability"] == "readWrite"}
        elif attribute["type"] == "boolean":
            value = False
        elif attribute["name"] in ("emails", "value"):
            value = "sample@alpha.test"
        else:
            value = f"sample {attribute['name']}"
        return [value] if attribute.get("multiValued") else value

    body = {"schemas": [USER_SCHEMA], **{name: sample(a) for name, a in writable.items()}}
    created = scim.post("/Users", json=body)
    assert created.status_code == 201, created.text
    stored = scim.get(f"/Users/{created.json()['id']}").json()
    for name in writable:
        assert stored.get(name) == body[name], name


def test_display_name_formatted_name_and_external_id_are_kept_as_sent(scim) -> None:  # type: ignore[no-untyped-def]
    body = _new_user("grace", "grace@alpha.test", displayName="Dr. Grace Hopper")
    body["name"] = {"givenName": "Grace", "familyName": "Hopper", "formatted": "Rear Adm. Grace Hopper"}
    grace = scim.post("/Users", json=body).json()
    assert grace["displayName"] == "Dr. Grace Hopper"
    assert grace["name"]["formatted"] == "Rear Adm. Grace Hopper"
    # A PATCH of the parts keeps the formatted name; the attributes change independently.
    resp = scim.patch(f"/Users/{grace['id']}", json=_patch(
        {"op": "replace", "path": "name", "value": {"givenName": "G."}},
        {"op": "replace", "path": "displayName", "value": "Amazing Grace"}))
    assert resp.json()["name"] == {"givenName": "G.", "familyName": "Hopper",
                                   "formatted": "Rear Adm. Grace Hopper"}
    assert resp.json()["displayName"] == "Amazing Grace"
    # Removing externalId (or displayName) leaves it unassigned: absent, not "".
    resp = scim.patch(f"/Users/{grace['id']}", json=_patch(
        {"op": "remove", "path": "externalId"}, {"op": "remove", "path": "displayName"}))
    assert resp.status_code == 200, resp.text
    assert "externalId" not in resp.json() and "displayName" not in resp.json()
    assert ScimUser.objects.get(scim_id=grace["id"]).external_id == ""


def test_attributes_and_excluded_attributes(scim) -> None:  # type: ignore[no-untyped-def]
    carol = scim.post("/Users", json=_new_user("carol", "carol@alpha.test")).json()
    only = scim.get(f"/Users/{carol['id']}", params={"attributes": "userName,name.givenName"}).json()
    assert only == {"schemas": [USER_SCHEMA], "id": carol["id"], "userName": "carol",
                    "name": {"givenName": "Carol"}}
    urn = scim.get(f"/Users/{carol['id']}", params={"attributes": f"{USER_SCHEMA}:emails"}).json()
    assert set(urn) == {"schemas", "id", "emails"}
    without = scim.get(f"/Users/{carol['id']}",
                       params={"excludedAttributes": "emails,name.familyName,id"}).json()
    assert "emails" not in without and without["name"] == {"givenName": "Carol"}
    assert without["id"] == carol["id"] and without["userName"] == "carol"  # id is returned always
    listed = scim.get("/Users", params={"attributes": "userName"}).json()
    assert listed["totalResults"] == 1 and set(listed["Resources"][0]) == {"schemas", "id", "userName"}
    found = scim.post("/Users/.search", json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
        "filter": 'userName eq "carol"', "excludedAttributes": ["groups", "meta"]}).json()
    assert found["totalResults"] == 1 and not {"groups", "meta"} & set(found["Resources"][0])
    patched = scim.patch(f"/Users/{carol['id']}", params={"attributes": "active"},
                         json=_patch({"op": "replace", "path": "active", "value": False}))
    assert patched.json() == {"schemas": [USER_SCHEMA], "id": carol["id"], "active": False}
    group = scim.get("/Groups/member", params={"excludedAttributes": "members"}).json()
    assert "members" not in group and group["displayName"] == "Members"
    both = scim.get("/Users", params={"attributes": "userName", "excludedAttributes": "emails"})
    assert both.status_code == 400 and both.json()["scimType"] == "invalidSyntax"


def test_deep_filters_and_deep_bodies_are_400(scim) -> None:  # type: ignore[no-untyped-def]
    carol = scim.post("/Users", json=_new_user("carol", "carol@alpha.test")).json()
    deep_filter = "(" * 5000 + 'userName eq "carol"' + ")" * 5000
    resp = scim.get("/Users", params={"filter": deep_filter})
    assert resp.status_code == 400 and resp.json()["status"] == "400"
    resp = scim.post("/Users/.search", json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": deep_filter})
    assert resp.status_code == 400
    deep_list = b"[" * 50_000 + b"]" * 50_000
    deep_object = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
    for body in (deep_list, deep_object):
        for method, path in (("POST", "/Users"), ("PUT", f"/Users/{carol['id']}"),
                             ("PATCH", f"/Users/{carol['id']}"), ("POST", "/Users/.search"),
                             ("PATCH", "/Groups/admin"), ("PUT", "/Groups/admin")):
            resp = scim.request(method, path, content=body)
            assert resp.status_code == 400, (method, path, resp.status_code)
            assert resp.json()["scimType"] == "invalidSyntax"


def _role(tenant, email: str) -> str:  # type: ignore[no-untyped-def]
    return UserProfile.objects.get(account=tenant.account, user__email=email).role


def test_a_member_of_both_groups_is_an_admin_whatever_the_push_order(scim, tenant_a) -> None:  # type: ignore[no-untyped-def]
    dave = scim.post("/Users", json=_new_user("dave", "dave@alpha.test")).json()
    erin = scim.post("/Users", json=_new_user("erin", "erin@alpha.test")).json()
    add = {"op": "add", "path": "members", "value": [{"value": dave["id"]}, {"value": erin["id"]}]}
    members = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
               "members": [{"value": dave["id"]}, {"value": erin["id"]}]}
    # dave: members' group first, then admins'; erin: admins' first, then members' (PATCH and PUT).
    assert scim.patch("/Groups/member", json=_patch(add)).status_code == 200
    assert scim.patch("/Groups/admin", json=_patch(add)).status_code == 200
    assert scim.patch("/Groups/member", json=_patch(add)).status_code == 200
    assert scim.put("/Groups/member", json=members).status_code == 200
    assert _role(tenant_a, "dave@alpha.test") == _role(tenant_a, "erin@alpha.test") == "admin"
    groups = scim.get(f"/Users/{dave['id']}").json()["groups"]
    assert {g["value"] for g in groups} == {"admin", "member"}
    listed = {m["value"] for m in scim.get("/Groups/member").json()["members"]}
    assert {dave["id"], erin["id"]} <= listed
    # Leaving the members' group changes no role; leaving the admins' group demotes.
    scim.patch("/Groups/member", json=_patch({"op": "remove", "path": f'members[value eq "{dave["id"]}"]'}))
    assert _role(tenant_a, "dave@alpha.test") == "admin"
    scim.patch("/Groups/admin", json=_patch({"op": "remove", "path": f'members[value eq "{dave["id"]}"]'}))
    assert _role(tenant_a, "dave@alpha.test") == "member"


def test_put_admins_group_keeps_admins_scim_never_made(scim, tenant_a) -> None:  # type: ignore[no-untyped-def]
    # The account's own admin, linked by SCIM (same email): an admin SCIM did not make.
    linked = scim.post("/Users", json=_new_user("alpha-admin", "admin@alpha.test")).json()
    dave = scim.post("/Users", json=_new_user("dave", "dave@alpha.test")).json()
    erin = scim.post("/Users", json=_new_user("erin", "erin@alpha.test")).json()
    scim.patch("/Groups/admin",
               json=_patch({"op": "add", "path": "members", "value": [{"value": dave["id"]}]}))
    resp = scim.put("/Groups/admin", json={"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                           "members": [{"value": erin["id"]}]})
    assert resp.status_code == 200, resp.text
    assert _role(tenant_a, "admin@alpha.test") == "admin"  # kept: the account made them admin
    assert _role(tenant_a, "dave@alpha.test") == "member"  # SCIM made them admin, and unmade them
    assert _role(tenant_a, "erin@alpha.test") == "admin"
    assert {m["value"] for m in resp.json()["members"]} == {linked["id"], erin["id"]}
    # Every role change went through the member actions, into the audit log.
    changes = AuditEvent.objects.filter(account=tenant_a.account, source="scim",
                                        target_kind="accounts.userprofile", action="updated")
    assert changes.count() >= 3


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
