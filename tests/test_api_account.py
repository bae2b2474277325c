"""GET/PATCH /api/v1/account/: members read, account admins (and superusers) write."""

from __future__ import annotations

import pytest

from accounts.models import Account

from .support.api_support import api_for, assert_error

pytestmark = pytest.mark.django_db


def test_member_reads_the_hosts_account(tenant_a, tenant_b):
    body = api_for(tenant_a.member).get("account/").json()
    assert body["account_number"] == tenant_a.account.account_number
    assert body["company_name"] == "Alpha Corp"
    assert tenant_b.account.account_number not in str(body)


def test_admin_patches_details(tenant_a):
    api = api_for(tenant_a.admin)
    response = api.patch("account/", {"company_name": "Alpha GmbH", "city": "Berlin"})
    assert response.status_code == 200
    assert response.json()["company_name"] == "Alpha GmbH"
    account = Account.objects.get(pk=tenant_a.account.pk)
    assert (account.company_name, account.city) == ("Alpha GmbH", "Berlin")
    assert api.get("account/").json()["city"] == "Berlin"  # no stale cached tenant


def test_read_only_fields_are_ignored(tenant_a):
    number = tenant_a.account.account_number
    response = api_for(tenant_a.admin).patch(
        "account/", {"account_number": "0000-0000-0000", "is_active": False, "is_default_account": True}
    )
    assert response.status_code == 200
    account = Account.objects.get(pk=tenant_a.account.pk)
    assert (account.account_number, account.is_active, account.is_default_account) == (number, True, False)


def test_member_cannot_patch(tenant_a):
    assert_error(api_for(tenant_a.member).patch("account/", {"company_name": "Mine"}), 403,
                 "permission_denied")
    assert Account.objects.get(pk=tenant_a.account.pk).company_name == "Alpha Corp"


def test_invalid_patch_is_400_with_field_errors(tenant_a):
    error = assert_error(
        api_for(tenant_a.admin).patch("account/", {"company_name": "", "currency": "EURO"}), 400,
        "validation_error",
    )
    assert set(error["fields"]) == {"company_name", "currency"}


def test_put_and_delete_are_not_allowed(tenant_a):
    api = api_for(tenant_a.admin)
    assert_error(api.delete("account/"), 405, "method_not_allowed")
    response = api.client.put("/api/v1/account/", {"company_name": "x"}, content_type="application/json")
    assert_error(response, 405)
    assert Account.objects.filter(pk=tenant_a.account.pk).exists()


def test_non_json_body_is_415(tenant_a):
    response = api_for(tenant_a.admin).client.patch(
        "/api/v1/account/", "company_name=x", content_type="application/x-www-form-urlencoded"
    )
    assert_error(response, 415, "unsupported_media_type")


def test_platform_superuser_patches_the_default_account(platform):
    response = api_for(platform.admin).patch("account/", {"company_name": "The Platform"})
    assert response.status_code == 200
    assert Account.objects.get(is_default_account=True).company_name == "The Platform"


def test_unknown_api_paths_and_malformed_ids_are_json_404(tenant_a):
    api = api_for(tenant_a.admin)
    for path in ("nope/", "workspaces/0.5/", "users/abc/"):
        assert_error(api.get(path), 404, "not_found")
    assert_error(api.delete("contacts/1.5/"), 404)  # not a CSRF page for non-GET


def test_fields_accept_only_the_documented_json_types(tenant_a):
    api = api_for(tenant_a.admin)
    error = assert_error(api.patch("account/", {"company_name": 12345, "city": True}), 400)
    assert set(error["fields"]) == {"company_name", "city"}
    error = assert_error(api.patch("account/", {"phone_number": " " * 10 + "1" * 30}), 400)
    assert "phone_number" in error["fields"]  # max_length applies to the value as sent
    assert Account.objects.get(pk=tenant_a.account.pk).company_name == "Alpha Corp"
