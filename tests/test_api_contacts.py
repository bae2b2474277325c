"""/api/v1/contacts/: CRUD, exactly one primary, duplicates 409, tenant isolation."""

from __future__ import annotations

import pytest

from accounts.models import AccountContact

from .support.api_support import api_for, assert_error

pytestmark = pytest.mark.django_db


def _primary(account):
    primaries = AccountContact.objects.filter(account=account, is_primary=True)
    return list(primaries.values_list("email", flat=True))


def test_list_is_paginated_and_scoped(tenant_a, tenant_b, settings):
    settings.API_PAGE_SIZE = 1
    api = api_for(tenant_a.member)
    page = api.get("contacts/").json()
    assert page["count"] == 2 and len(page["results"]) == 1 and page["next"]
    emails = {c["email"] for c in page["results"]} | {
        c["email"] for c in api.get("contacts/", {"page": 2}).json()["results"]
    }
    assert emails == {"admin@alpha.test", "member@alpha.test"}
    assert_error(api.get("contacts/", {"page": 99}), 404, "not_found")


def test_create_retrieve_update_delete(tenant_a):
    api = api_for(tenant_a.admin)
    response = api.post("contacts/", {"email": "Ops@Alpha.test", "first_name": "Op",
                                      "phone": "+1 415 555 0100"})
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["email"] == "ops@alpha.test" and created["is_primary"] is False
    assert api.get(f"contacts/{created['id']}/").json()["first_name"] == "Op"
    response = api.patch(f"contacts/{created['id']}/", {"last_name": "Erator"})
    assert response.status_code == 200 and response.json()["last_name"] == "Erator"
    assert api.delete(f"contacts/{created['id']}/").status_code == 204
    assert not AccountContact.objects.filter(pk=created["id"]).exists()
    assert_error(api.get(f"contacts/{created['id']}/"), 404)


def test_setting_a_primary_moves_the_flag(tenant_a):
    api = api_for(tenant_a.admin)
    assert _primary(tenant_a.account) == ["admin@alpha.test"]
    new = api.post("contacts/", {"email": "boss@alpha.test", "is_primary": True}).json()
    assert new["is_primary"] is True
    assert _primary(tenant_a.account) == ["boss@alpha.test"]
    member = AccountContact.objects.get(account=tenant_a.account, email="member@alpha.test")
    response = api.patch(f"contacts/{member.pk}/", {"is_primary": True})
    assert response.status_code == 200 and response.json()["is_primary"] is True
    assert _primary(tenant_a.account) == ["member@alpha.test"]


def test_the_primary_cannot_be_unset_directly(tenant_a):
    api = api_for(tenant_a.admin)
    primary = AccountContact.objects.get(account=tenant_a.account, is_primary=True)
    error = assert_error(api.patch(f"contacts/{primary.pk}/", {"is_primary": False}), 409)
    assert "is_primary" in error["fields"] and error["code"] == "last_primary"
    assert _primary(tenant_a.account) == [primary.email]


def test_first_contact_becomes_primary_and_deleting_the_primary_promotes_another(tenant_a):
    api = api_for(tenant_a.admin)
    AccountContact.objects.filter(account=tenant_a.account).delete()
    first = api.post("contacts/", {"email": "one@alpha.test"}).json()
    assert first["is_primary"] is True
    second = api.post("contacts/", {"email": "two@alpha.test"}).json()
    assert second["is_primary"] is False
    assert api.delete(f"contacts/{first['id']}/").status_code == 204
    assert _primary(tenant_a.account) == ["two@alpha.test"]


def test_duplicate_email_is_409(tenant_a):
    api = api_for(tenant_a.admin)
    error = assert_error(api.post("contacts/", {"email": "MEMBER@alpha.test"}), 409, "conflict")
    assert "email" in error["fields"]
    other = api.post("contacts/", {"email": "x@alpha.test"}).json()
    assert_error(api.patch(f"contacts/{other['id']}/", {"email": "admin@alpha.test"}), 409)


def test_same_email_in_another_tenant_is_fine(tenant_a, tenant_b):
    response = api_for(tenant_b.admin).post("contacts/", {"email": "admin@alpha.test"})
    assert response.status_code == 201


def test_invalid_email_is_400(tenant_a):
    error = assert_error(api_for(tenant_a.admin).post("contacts/", {"email": "nope"}), 400)
    assert list(error["fields"]) == ["email"]


def test_members_read_but_cannot_write(tenant_a):
    api = api_for(tenant_a.member)
    contact = AccountContact.objects.filter(account=tenant_a.account).first()
    assert api.get(f"contacts/{contact.pk}/").status_code == 200
    assert_error(api.post("contacts/", {"email": "m@alpha.test"}), 403)
    assert_error(api.patch(f"contacts/{contact.pk}/", {"first_name": "X"}), 403)
    assert_error(api.delete(f"contacts/{contact.pk}/"), 403)
    assert AccountContact.objects.filter(pk=contact.pk, first_name="").exists()


def test_other_tenants_contacts_are_404(tenant_a, tenant_b):
    theirs = AccountContact.objects.filter(account=tenant_b.account).first()
    api = api_for(tenant_a.admin)
    assert_error(api.get(f"contacts/{theirs.pk}/"), 404)
    assert_error(api.patch(f"contacts/{theirs.pk}/", {"first_name": "X"}), 404)
    assert_error(api.delete(f"contacts/{theirs.pk}/"), 404)
    assert AccountContact.objects.filter(pk=theirs.pk).exists()


def test_page_size_parameter_is_bounded(tenant_a):
    api = api_for(tenant_a.admin)
    for i in range(3):
        api.post("contacts/", {"email": f"c{i}@alpha.test"})
    body = api.get("contacts/", {"page_size": 2}).json()
    assert body["count"] == 5 and len(body["results"]) == 2
    assert len(api.get("contacts/", {"page_size": 10_000}).json()["results"]) == 5


@pytest.mark.parametrize("params", [{"page": "abc"}, {"page": "0"}, {"page_size": "-1"}, {"page": "1" * 20}])
def test_bad_paging_parameters_are_400(tenant_a, params):
    error = assert_error(api_for(tenant_a.member).get("contacts/", params), 400)
    assert set(error["fields"]) == set(params)
