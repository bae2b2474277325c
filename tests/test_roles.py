"""``User.is_staff`` belongs to operators: memberships never write it, and the Django admin
admits by the account-admin role on the request's host (docs/ARCHITECTURE.md, Roles)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model

from accounts.models import UserProfile
from accounts.provisioning import add_member
from tests.conftest import PASSWORD, host_client
from tests.support.api_support import api_for
from tests.support.frontdoor_support import host_and_path, last_mail, link_with

User = get_user_model()


def _staff(user_id: int) -> bool:
    return User.objects.get(pk=user_id).is_staff


@pytest.fixture
def operator(db):  # type: ignore[no-untyped-def]
    """A platform operator: globally staff, not superuser, in no account yet."""
    return User.objects.create_user("operator", "op@example.com", PASSWORD, is_staff=True)


def test_joining_and_leaving_accounts_leaves_is_staff_unchanged(tenant_a, tenant_b, operator):
    profile = UserProfile.objects.create(user=operator, account=tenant_a.account)
    assert _staff(operator.pk)  # joined as a member: still staff
    profile.role = UserProfile.ROLE_ADMIN
    profile.save()
    assert _staff(operator.pk)
    profile.is_active = False
    profile.save()
    assert _staff(operator.pk)
    profile.delete()  # left the account
    assert _staff(operator.pk)
    # A plain user made admin, demoted, removed: never made staff.
    plain = tenant_b.member
    plain.role = UserProfile.ROLE_ADMIN
    plain.save()
    assert not _staff(plain.user_id)
    UserProfile.objects.create(user=plain.user, account=tenant_a.account, role="admin")
    assert not _staff(plain.user_id)
    UserProfile.objects.filter(user=plain.user).delete()
    assert not _staff(plain.user_id)


def test_console_api_and_commands_never_write_is_staff(tenant_a, operator):
    EmailAddress.objects.create(user=operator, email="op@example.com", verified=True)
    console = host_client(tenant_a.host, tenant_a.admin.user)
    response = console.post("/console/members/", {"email": "op@example.com", "role": "admin"})
    assert response.status_code == 302
    assert not UserProfile.objects.filter(user=operator, account=tenant_a.account).exists()
    host, path = host_and_path(link_with(last_mail("op@example.com"), "/invitations/"))
    assert host_client(host).post(path, {"password": PASSWORD}).status_code == 302  # consents
    profile = UserProfile.objects.get(user=operator, account=tenant_a.account)
    assert profile.role == "admin" and _staff(operator.pk)
    console.post(f"/console/members/{profile.pk}/role/", {"role": "member"})
    assert UserProfile.objects.get(pk=profile.pk).role == "member" and _staff(operator.pk)
    api = api_for(tenant_a.admin)
    assert api.patch(f"users/{profile.pk}/", {"role": "admin"}).status_code == 200
    assert api.delete(f"users/{profile.pk}/").status_code == 204
    assert not UserProfile.objects.filter(pk=profile.pk).exists()
    assert _staff(operator.pk)
    created = api.post("users/", {"email": "dora@alpha.test", "role": "admin"})
    assert created.status_code == 202, created.content
    host, path = host_and_path(link_with(last_mail("dora@alpha.test"), "/invitations/"))
    password = "a-long-unique-password-42"
    assert host_client(host).post(path, {"first_name": "Dora", "password1": password,
                                         "password2": password}).status_code == 302
    assert not User.objects.get(username="dora@alpha.test").is_staff
    add_member(tenant_a.account, "erin", email="erin@alpha.test", admin=True)
    assert not User.objects.get(username="erin").is_staff


def test_staff_member_is_sent_to_the_admin_sign_in(tenant_a, operator):
    UserProfile.objects.create(user=operator, account=tenant_a.account)  # a plain member
    client = host_client(tenant_a.host, operator)
    for path in ["/admin/", "/admin/accounts/userprofile/", "/admin/workspaces/workspace/"]:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/admin/login/"), path
    # ...and the admin sign-in refuses them here.
    anonymous = host_client(tenant_a.host)
    response = anonymous.post("/admin/login/?next=/admin/", {
        "username": "operator", "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 200 and "_auth_user_id" not in anonymous.session


def test_admin_of_a_is_a_stranger_to_bs_admin_index(tenant_a, tenant_b):
    # alpha-admin is a plain member of bravo: bravo's admin index is not theirs (was 200, empty).
    UserProfile.objects.create(user=tenant_a.admin.user, account=tenant_b.account)
    client = host_client(tenant_b.host, tenant_a.admin.user)
    response = client.get("/admin/")
    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    # On their own host they are let in.
    assert host_client(tenant_a.host, tenant_a.admin.user).get("/admin/").status_code == 200


def test_account_admin_without_is_staff_uses_the_scoped_admin(tenant_a, tenant_b):
    user = tenant_a.admin.user
    assert not _staff(user.pk)
    client = host_client(tenant_a.host, user)
    index = client.get("/admin/")
    assert index.status_code == 200
    body = index.content.decode()
    assert "/admin/accounts/userprofile/" in body and "/admin/auth/user/" not in body
    page = client.get("/admin/accounts/userprofile/")
    assert page.status_code == 200
    assert "alpha-member" in page.content.decode() and "bravo-member" not in page.content.decode()
    member = tenant_a.member
    change = client.post(f"/admin/accounts/userprofile/{member.pk}/change/", {
        "role": "admin", "is_active": "on", "profile_image_url": "", "name": "",
        "description": "", "version": "1.0.0", "annotations": "{}", "tags": ""})
    assert change.status_code == 302, change.context["adminform"].form.errors
    assert UserProfile.objects.get(pk=member.pk).role == "admin"
    assert not _staff(member.user_id)
    # A deactivated admin profile closes the admin to them.
    own = UserProfile.objects.get(pk=tenant_a.admin.pk)
    own.is_active = False
    own.save()
    assert client.get("/admin/").status_code == 302


def test_superuser_enters_every_hosts_admin(platform, tenant_a):
    client = host_client(tenant_a.host, platform.admin.user)
    assert client.get("/admin/").status_code == 200
