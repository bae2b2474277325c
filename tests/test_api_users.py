"""/api/v1/users/: list, add (an invitation), change role, deactivate, delete; all-or-nothing batch."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from accounts.models import AccountContact, Invitation, UserProfile
from workspaces.models import Workspace

from .support.api_support import ApiClient, api_for, assert_error, make_key
from .support.frontdoor_support import mails_to

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_list_shows_this_tenants_members_only(tenant_a, tenant_b, platform):
    body = api_for(tenant_a.member).get("users/").json()
    assert {u["username"] for u in body["results"]} == {"alpha-admin", "alpha-member"}
    assert body["count"] == 2
    assert all("password" not in u for u in body["results"])


def test_create_member_invites_the_address(tenant_a):
    api = api_for(tenant_a.admin)
    response = api.post("users/", {"email": "Carol@Alpha.test", "role": "admin"})
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["email"], body["role"], body["status"]) == ("carol@alpha.test", "admin", "pending")
    assert Invitation.objects.get(pk=body["id"], account=tenant_a.account).email == "carol@alpha.test"
    assert not User.objects.filter(username="carol@alpha.test").exists()  # made on acceptance
    assert len(mails_to("carol@alpha.test")) == 1


def test_create_rejects_bad_role_and_bad_email(tenant_a):
    api = api_for(tenant_a.admin)
    error = assert_error(api.post("users/", {"email": "e@alpha.test", "role": "owner"}), 400)
    assert "role" in error["fields"]
    error = assert_error(api.post("users/", {"email": "not-an-email"}), 400)
    assert "email" in error["fields"]
    assert not Invitation.objects.filter(email="e@alpha.test").exists()


def test_duplicate_invitation_or_member_is_409(tenant_a):
    api = api_for(tenant_a.admin)
    assert api.post("users/", {"email": "f@alpha.test"}).status_code == 202
    error = assert_error(api.post("users/", {"email": "F@ALPHA.test"}), 409, "conflict")
    assert "email" in error["fields"]
    assert Invitation.objects.filter(account=tenant_a.account, email="f@alpha.test").count() == 1
    EmailAddress.objects.create(user=tenant_a.member.user, email="member@alpha.test", verified=True)
    assert_error(api.post("users/", {"email": "member@alpha.test"}), 409, "conflict")


def test_existing_user_of_another_tenant_is_invited_to_join(tenant_a, tenant_b):
    EmailAddress.objects.create(user=tenant_b.member.user, email="member@bravo.test", verified=True)
    assert api_for(tenant_a.admin).post("users/", {"email": "member@bravo.test"}).status_code == 202
    assert UserProfile.objects.filter(user=tenant_b.member.user).count() == 1  # until they accept


def test_change_role_and_deactivate_and_reactivate(tenant_a):
    api = api_for(tenant_a.admin)
    member = tenant_a.member
    response = api.patch(f"users/{member.pk}/", {"role": "admin"})
    assert response.status_code == 200 and response.json()["role"] == "admin"
    assert UserProfile.objects.get(pk=member.pk).role == "admin"
    _, member_key = make_key(member)
    member_api = ApiClient(tenant_a.host, member_key)
    assert member_api.get("users/").status_code == 200
    assert api.patch(f"users/{member.pk}/", {"is_active": False}).json()["is_active"] is False
    assert_error(member_api.get("users/"), 401)  # a deactivated member's keys stop working
    assert api.patch(f"users/{member.pk}/", {"is_active": True}).status_code == 200
    assert member_api.get("users/").status_code == 200


def test_user_and_account_of_a_profile_cannot_be_changed(tenant_a, tenant_b):
    api = api_for(tenant_a.admin)
    member = tenant_a.member
    response = api.patch(f"users/{member.pk}/", {"username": "evil", "email": "evil@x.test",
                                                 "account": tenant_b.account.pk})
    assert response.status_code == 200
    member.refresh_from_db()
    assert (member.user.username, member.account_id) == ("alpha-member", tenant_a.account.pk)


def test_delete_member_hands_their_workspaces_over(tenant_a):
    """DELETE removes the member as every surface does: their workspace goes to the admin
    whose key acts (it was deleted with the membership before)."""
    space = Workspace.objects.create(user_profile=tenant_a.member, name="members-space")
    api = api_for(tenant_a.admin)
    assert api.delete(f"users/{tenant_a.member.pk}/").status_code == 204
    assert not UserProfile.objects.filter(pk=tenant_a.member.pk).exists()
    assert User.objects.filter(pk=tenant_a.member.user_id).exists()  # the user stays
    assert Workspace.objects.get(pk=space.pk).user_profile_id == tenant_a.admin.pk
    assert_error(api.get(f"users/{tenant_a.member.pk}/"), 404)


def test_admin_cannot_change_or_remove_themselves(tenant_a):
    api = api_for(tenant_a.admin)
    me = tenant_a.admin.pk
    assert_error(api.patch(f"users/{me}/", {"role": "member"}), 409)
    assert_error(api.patch(f"users/{me}/", {"is_active": False}), 409)
    assert_error(api.delete(f"users/{me}/"), 409)
    assert UserProfile.objects.get(pk=me).role == "admin"


def test_members_cannot_write(tenant_a):
    api = api_for(tenant_a.member)
    assert api.get(f"users/{tenant_a.admin.pk}/").status_code == 200
    assert_error(api.post("users/", {"email": "h@alpha.test"}), 403)
    assert_error(api.post("users/batch/", [{"email": "h@alpha.test"}]), 403)
    assert_error(api.patch(f"users/{tenant_a.admin.pk}/", {"role": "member"}), 403)
    assert_error(api.delete(f"users/{tenant_a.admin.pk}/"), 403)
    assert UserProfile.objects.get(pk=tenant_a.admin.pk).role == "admin"
    assert not User.objects.filter(username="h@alpha.test").exists()


def test_other_tenants_profiles_are_404(tenant_a, tenant_b):
    api = api_for(tenant_a.admin)
    theirs = tenant_b.member.pk
    assert_error(api.get(f"users/{theirs}/"), 404)
    assert_error(api.patch(f"users/{theirs}/", {"role": "admin"}), 404)
    assert_error(api.delete(f"users/{theirs}/"), 404)
    assert UserProfile.objects.get(pk=theirs).role == "member"


def test_batch_create(tenant_a):
    rows = [{"email": f"b{i}@alpha.test", "role": "admin" if i == 0 else "member"} for i in range(3)]
    response = api_for(tenant_a.admin).post("users/batch/", rows)
    assert response.status_code == 202, response.content
    assert [u["email"] for u in response.json()] == [r["email"] for r in rows]
    assert [u["role"] for u in response.json()] == ["admin", "member", "member"]
    assert Invitation.objects.filter(account=tenant_a.account).count() == 3
    assert UserProfile.objects.filter(account=tenant_a.account).count() == 2


def _nothing_created(account, emails):
    return (
        not User.objects.filter(username__in=emails).exists()
        and not Invitation.objects.filter(account=account, email__in=emails).exists()
        and not AccountContact.objects.filter(account=account, email__in=emails).exists()
    )


def test_batch_rolls_back_everything_on_one_invalid_row(tenant_a):
    rows = [{"email": "ok1@alpha.test"}, {"email": "ok2@alpha.test"}, {"email": "broken"}]
    error = assert_error(api_for(tenant_a.admin).post("users/batch/", rows), 400)
    assert error["fields"] == {"2": {"email": ["Enter a valid email address."]}}
    assert _nothing_created(tenant_a.account, ["ok1@alpha.test", "ok2@alpha.test"])


def test_batch_rolls_back_on_a_pending_invitation_or_a_repeated_row(tenant_a):
    api = api_for(tenant_a.admin)
    api.post("users/", {"email": "here@alpha.test"})
    rows = [{"email": "new1@alpha.test"}, {"email": "here@alpha.test"}]
    assert_error(api.post("users/batch/", rows), 409, "conflict")
    rows = [{"email": "new1@alpha.test"}, {"email": "new2@alpha.test"}, {"email": "NEW1@alpha.test"}]
    assert_error(api.post("users/batch/", rows), 409, "conflict")
    assert _nothing_created(tenant_a.account, ["new1@alpha.test", "new2@alpha.test"])


def test_batch_rolls_back_when_the_database_refuses_a_late_row(tenant_a, monkeypatch):
    """A failure after some rows were written (here: the third insert) undoes the earlier ones."""
    from django.db import IntegrityError

    real_save = Invitation.save
    calls = {"n": 0}

    def flaky_save(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003
        if self._state.adding:  # an insert, whichever helper makes the row
            calls["n"] += 1
            if calls["n"] == 3:
                raise IntegrityError("simulated constraint violation")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(Invitation, "save", flaky_save)
    rows = [{"email": f"late{i}@alpha.test"} for i in range(3)]
    assert_error(api_for(tenant_a.admin).post("users/batch/", rows), 409, "conflict")
    assert calls["n"] == 3
    assert _nothing_created(tenant_a.account, [r["email"] for r in rows])


@pytest.mark.parametrize("payload", [[], {"email": "x@alpha.test"}, ["x@alpha.test"]])
def test_batch_needs_a_list_of_objects(tenant_a, payload):
    assert_error(api_for(tenant_a.admin).post("users/batch/", payload), 400)
    assert UserProfile.objects.filter(account=tenant_a.account).count() == 2


def test_role_and_flags_need_json_types(tenant_a):
    api = api_for(tenant_a.admin)
    path = f"users/{tenant_a.member.pk}/"
    assert "is_active" in assert_error(api.patch(path, {"is_active": "no"}), 400)["fields"]
    assert "role" in assert_error(api.patch(path, {"role": 1}), 400)["fields"]
    assert UserProfile.objects.get(pk=tenant_a.member.pk).is_active
