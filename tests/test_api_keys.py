"""API keys: the endpoints (list, create, revoke), the console page and create_api_key."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import ApiKey

from .conftest import host_client
from .support.api_support import ApiClient, api_for, assert_error, make_key

pytestmark = pytest.mark.django_db


def test_create_shows_the_key_once_and_it_works(tenant_a):
    api = api_for(tenant_a.admin)
    response = api.post("api-keys/", {"name": "deploy", "expires_in_days": 30})
    assert response.status_code == 201, response.content
    body = response.json()
    raw = body["key"]
    assert raw.startswith(body["prefix"] + ".") and body["owner"] == tenant_a.admin.pk
    assert body["expires_at"] is not None
    assert ApiClient(tenant_a.host, raw).get("account/").status_code == 200
    listed = api.get("api-keys/").content.decode()
    assert raw.split(".", 1)[1] not in listed and '"key"' not in listed
    assert raw.split(".", 1)[1] not in api.get(f"api-keys/{body['id']}/").content.decode()


def test_create_for_another_member(tenant_a, tenant_b):
    api = api_for(tenant_a.admin)
    body = api.post("api-keys/", {"name": "bot", "owner": tenant_a.member.pk}).json()
    assert body["owner"] == tenant_a.member.pk
    member_api = ApiClient(tenant_a.host, body["key"])
    assert member_api.get("users/").status_code == 200
    assert_error(member_api.post("workspaces/", {"name": "x"}), 403)  # the member's rights only
    error = assert_error(api.post("api-keys/", {"name": "bot", "owner": tenant_b.member.pk}), 400)
    assert "owner" in error["fields"]


def test_create_validation(tenant_a):
    api = api_for(tenant_a.admin)
    assert "name" in assert_error(api.post("api-keys/", {}), 400)["fields"]
    error = assert_error(api.post("api-keys/", {"name": "x", "expires_in_days": 0}), 400)
    assert "expires_in_days" in error["fields"]


def test_list_is_scoped_to_the_tenant(tenant_a, tenant_b):
    make_key(tenant_b.admin, name="theirs")
    make_key(tenant_a.member, name="member's")
    api = api_for(tenant_a.member)
    names = {k["name"] for k in api.get("api-keys/").json()["results"]}
    assert names == {"member's", "test key"}


def test_revoke(tenant_a):
    api = api_for(tenant_a.admin)
    key, raw = make_key(tenant_a.admin, name="old")
    assert api.delete(f"api-keys/{key.pk}/").status_code == 204
    key.refresh_from_db()
    assert key.is_active is False and key.revoked_at is not None
    assert_error(ApiClient(tenant_a.host, raw).get("account/"), 401)
    assert api.get(f"api-keys/{key.pk}/").json()["is_active"] is False  # kept for the record
    assert api.delete(f"api-keys/{key.pk}/").status_code == 204  # idempotent


def test_members_cannot_create_or_revoke(tenant_a):
    key, _ = make_key(tenant_a.admin)
    api = api_for(tenant_a.member)
    assert_error(api.post("api-keys/", {"name": "mine"}), 403)
    assert_error(api.delete(f"api-keys/{key.pk}/"), 403)
    assert ApiKey.objects.get(pk=key.pk).is_active


def test_other_tenants_keys_cannot_be_seen_or_revoked(tenant_a, tenant_b):
    theirs, raw = make_key(tenant_b.admin)
    api = api_for(tenant_a.admin)
    assert_error(api.get(f"api-keys/{theirs.pk}/"), 404)
    assert_error(api.delete(f"api-keys/{theirs.pk}/"), 404)
    assert ApiClient(tenant_b.host, raw).get("account/").status_code == 200


def test_keys_cannot_be_patched(tenant_a):
    key, _ = make_key(tenant_a.admin)
    assert_error(api_for(tenant_a.admin).patch(f"api-keys/{key.pk}/", {"name": "x"}), 405)


# --- console


def test_console_creates_a_key_shown_once_and_revokes_it(tenant_a):
    client = host_client(tenant_a.host, tenant_a.admin.user)
    assert b"API keys" in client.get("/console/").content
    response = client.post("/console/api-keys/", {"name": "from console", "expires_days": "7"})
    assert response.status_code == 200
    key = ApiKey.objects.get(name="from console")
    html = response.content.decode()
    raw = html.split("<code>", 1)[1].split("</code>", 1)[0]
    assert raw.startswith(key.prefix + ".") and key.matches(raw)
    assert response["Cache-Control"] == "no-store"
    assert raw not in client.get("/console/api-keys/").content.decode()
    assert ApiClient(tenant_a.host, raw).get("account/").status_code == 200
    response = client.post(f"/console/api-keys/{key.pk}/revoke/")
    assert response.status_code == 302
    assert not ApiKey.objects.get(pk=key.pk).is_active
    assert_error(ApiClient(tenant_a.host, raw).get("account/"), 401)


def test_console_keys_page_is_for_account_admins_of_this_tenant(tenant_a, tenant_b):
    theirs, _ = make_key(tenant_b.admin)
    assert host_client(tenant_a.host, tenant_a.member.user).get("/console/api-keys/").status_code == 403
    assert host_client(tenant_a.host).get("/console/api-keys/").status_code == 302
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    assert theirs.prefix not in admin.get("/console/api-keys/").content.decode()
    assert admin.post(f"/console/api-keys/{theirs.pk}/revoke/").status_code == 404
    assert ApiKey.objects.get(pk=theirs.pk).is_active


# --- management command


def test_command_prints_the_key_once(tenant_a):
    out, err = StringIO(), StringIO()
    call_command("create_api_key", account=tenant_a.account.account_number, username="alpha-admin",
                 name="ci", expires_days=10, stdout=out, stderr=err)
    raw = out.getvalue().strip()
    key = ApiKey.objects.get(name="ci")
    assert key.matches(raw) and key.expires_at is not None
    assert raw not in err.getvalue()
    assert ApiClient(tenant_a.host, raw).get("account/").status_code == 200


@pytest.mark.parametrize("kwargs, message", [
    ({"account": "1234", "username": "alpha-admin", "name": "x"}, "not an account number"),
    ({"account": "0000-0000-0009", "username": "alpha-admin", "name": "x"}, "No active account"),
    ({"username": "bravo-admin", "name": "x"}, "not an active member"),
    ({"username": "nobody", "name": "x"}, "not an active member"),
    ({"username": "alpha-admin", "name": "  "}, "--name"),
    ({"username": "alpha-admin", "name": "x", "expires_days": 0}, "--expires-days"),
])
def test_command_refuses_bad_input(tenant_a, tenant_b, kwargs, message):
    kwargs = {"account": tenant_a.account.account_number, **kwargs}
    with pytest.raises(CommandError, match=message):
        call_command("create_api_key", **kwargs, stdout=StringIO(), stderr=StringIO())
    assert not ApiKey.objects.exists()


def test_command_refuses_inactive_member(tenant_a):
    tenant_a.member.is_active = False
    tenant_a.member.save()
    with pytest.raises(CommandError, match="not an active member"):
        call_command("create_api_key", account=tenant_a.account.account_number,
                     username="alpha-member", name="x", stdout=StringIO(), stderr=StringIO())


def test_command_exits_non_zero_from_manage_py(tenant_a):
    import subprocess
    import sys

    from django.conf import settings

    result = subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), "create_api_key",
         "--account", "bad", "--username", "u", "--name", "n"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode != 0
    assert "not an account number" in result.stderr


# --- Django admin


def test_admin_lists_and_revokes_only_this_tenants_keys(tenant_a, tenant_b):
    mine, raw = make_key(tenant_a.admin, name="mine")
    theirs, _ = make_key(tenant_b.admin, name="theirs")
    client = host_client(tenant_a.host, tenant_a.admin.user)
    page = client.get("/admin/accounts/apikey/").content.decode()
    assert mine.prefix in page and theirs.prefix not in page
    assert key_hash_absent(page, mine)
    assert client.get("/admin/accounts/apikey/add/").status_code == 403
    assert client.get(f"/admin/accounts/apikey/{theirs.pk}/change/").status_code == 404
    response = client.post("/admin/accounts/apikey/", {
        "action": "revoke", "_selected_action": [mine.pk, theirs.pk],
    })
    assert response.status_code == 302
    assert not ApiKey.objects.get(pk=mine.pk).is_active
    assert ApiKey.objects.get(pk=theirs.pk).is_active
    assert_error(ApiClient(tenant_a.host, raw).get("account/"), 401)


def key_hash_absent(page: str, key: ApiKey) -> bool:
    return key.key_hash not in page
