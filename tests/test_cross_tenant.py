"""A member and an admin of tenant A request every console and workspace URL of tenant B.

Two ways in: B's ids on A's own host (the URLconf is the same, the rows are not A's), and
A's session arriving on B's host (as if the session cookie were shared across subdomains).
Every response is a 403/404 or the login page, shows none of B's data, and no B row changes.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from accounts.models import Account, AccountContact, ApiKey, UserProfile
from tests.conftest import PASSWORD, host_client
from workspaces.models import Workspace

User = get_user_model()


@pytest.fixture
def world(tenant_a, tenant_b):
    Workspace.objects.create(user_profile=tenant_a.admin, name="team", is_public=True)
    b_private = Workspace.objects.create(user_profile=tenant_b.admin, name="bravo-vault",
                                         description="bravo private plans")
    b_public = Workspace.objects.create(user_profile=tenant_b.admin, name="bravo-open",
                                        is_public=True, description="bravo public notes")
    b_contact = AccountContact.objects.create(account=tenant_b.account,
                                              email="ceo@bravo-secret.test", first_name="Bea")
    b_key, _ = ApiKey.create(tenant_b.admin, "bravo-deploy-key")
    b_extra, _ = UserProfile.objects.get_or_create(
        user=User.objects.create_user("bravo-hidden-user", "hidden@bravo-secret.test", PASSWORD),
        account=tenant_b.account)
    return {"private": b_private, "public": b_public, "contact": b_contact, "key": b_key,
            "extra": b_extra}


def _b_secrets(tenant_b, world) -> list[str]:
    users = User.objects.filter(user_profile__account=tenant_b.account)
    return [
        tenant_b.account.company_name,
        *[u.username for u in users], *[u.email for u in users if u.email],
        world["contact"].email, "bravo-vault", "bravo-open", "bravo private plans",
        "bravo public notes", "bravo-deploy-key", world["key"].prefix,
    ]


def _snapshot(account: Account) -> dict:
    return {
        "account": list(Account.objects.filter(pk=account.pk).values()),
        "profiles": list(UserProfile.objects.filter(account=account).order_by("pk").values()),
        "users": list(User.objects.filter(user_profile__account=account).order_by("pk").values()),
        "contacts": list(AccountContact.objects.filter(account=account).order_by("pk").values()),
        "workspaces": list(Workspace.objects.filter(account=account).order_by("pk").values()),
        "keys": list(ApiKey.objects.filter(account=account).order_by("pk").values()),
    }


def _b_requests(tenant_b, world) -> list[tuple[str, str, dict]]:
    member_ids = list(UserProfile.objects.filter(account=tenant_b.account).values_list("pk", flat=True))
    contact = world["contact"].pk
    workspaces = [world["private"].pk, world["public"].pk]
    key = world["key"].pk
    requests: list[tuple[str, str, dict]] = []
    for path, data in [
        ("/console/", {}),
        ("/console/account/", {"company_name": "Pwned Inc"}),
        ("/console/members/", {"email": "intruder@evil.test", "role": "admin"}),
        ("/console/contacts/", {"email": "intruder@evil.test"}),
        ("/console/workspaces/", {"name": "intruder"}),
        ("/console/api-keys/", {"name": "intruder"}),
        ("/admin/", {}),
        ("/admin/accounts/account/", {}),
        ("/admin/accounts/userprofile/", {}),
        ("/admin/accounts/accountcontact/", {}),
        ("/admin/workspaces/workspace/", {}),
    ]:
        requests += [("get", path, {}), ("post", path, data)]
    for pk in member_ids:
        requests += [
            ("post", f"/console/members/{pk}/role/", {"role": "admin"}),
            ("post", f"/console/members/{pk}/active/", {"active": "0"}),
            ("post", f"/console/members/{pk}/remove/", {}),
            ("get", f"/admin/accounts/userprofile/{pk}/change/", {}),
            ("post", f"/admin/accounts/userprofile/{pk}/change/", {"role": "member"}),
            ("post", f"/admin/accounts/userprofile/{pk}/delete/", {"post": "yes"}),
        ]
    requests += [
        ("post", f"/console/contacts/{contact}/primary/", {}),
        ("post", f"/console/contacts/{contact}/delete/", {}),
        ("get", f"/admin/accounts/accountcontact/{contact}/change/", {}),
        ("post", f"/admin/accounts/accountcontact/{contact}/delete/", {"post": "yes"}),
        ("post", f"/console/api-keys/{key}/revoke/", {}),
        ("get", f"/admin/accounts/account/{tenant_b.account.pk}/change/", {}),
        ("post", f"/admin/accounts/account/{tenant_b.account.pk}/change/",
         {"company_name": "Pwned Inc"}),
    ]
    for pk in workspaces:
        requests += [
            ("get", f"/console/workspaces/{pk}/", {}),
            ("post", f"/console/workspaces/{pk}/", {"name": "renamed-by-a"}),
            ("post", f"/console/workspaces/{pk}/delete/", {}),
            ("get", f"/admin/workspaces/workspace/{pk}/change/", {}),
            ("post", f"/admin/workspaces/workspace/{pk}/delete/", {"post": "yes"}),
        ]
    return requests


def _check(response, secrets, where):
    status = response.status_code
    location = response.get("Location", "")
    assert status in (403, 404) or (status == 302 and "login" in location) or (
        status == 200 and 'name="password"' in response.content.decode()
    ), (where, status, location)
    body = response.content.decode(errors="replace")
    for secret in secrets:
        assert secret not in body, (where, secret)


@pytest.mark.parametrize("role", ["admin", "member"])
def test_tenant_a_cannot_reach_tenant_b(tenant_a, tenant_b, world, role):
    user = (tenant_a.admin if role == "admin" else tenant_a.member).user
    secrets = _b_secrets(tenant_b, world)
    before = _snapshot(tenant_b.account)
    requests = _b_requests(tenant_b, world)
    assert len(requests) > 50

    # 1. B's ids on A's own host: every URL naming a B row is a 403/404 (or login).
    own = host_client(tenant_a.host, user)
    for method, path, data in requests:
        response = getattr(own, method)(path, data)
        if not any(char.isdigit() for char in path):
            # One of A's own list pages: whatever it does, it is A's and shows nothing of B.
            body = response.content.decode()
            assert response.status_code in (200, 302, 403), (path, response.status_code)
            for secret in secrets:
                assert secret not in body, (path, secret)
            continue
        _check(response, secrets, ("own host", method, path))

    # 2. A's session arriving on B's hosts.
    for host in (tenant_b.host, tenant_b.workspace_host("bravo-vault"),
                 tenant_b.workspace_host("bravo-open")):
        client = host_client(tenant_a.host, user)
        for method, path, data in requests:
            response = getattr(client, method)(path, data, HTTP_HOST=host)
            _check(response, secrets, (host, method, path))
        # The public workspace of B is public: but it shows B's public page, never as A's user.
        response = client.get("/", HTTP_HOST=tenant_b.host)
        assert response.wsgi_request.user_profile is None
        assert not response.wsgi_request.user.is_authenticated
        response = client.get("/", HTTP_HOST=tenant_b.workspace_host("bravo-vault"))
        assert response.status_code == 302 and "login" in response["Location"]

    # Signing in to B with A's credentials is refused.
    login = host_client(tenant_b.host).post("/login/", {"login": user.username,
                                                        "password": PASSWORD})
    assert login.status_code == 200 and not login.wsgi_request.user.is_authenticated

    assert _snapshot(tenant_b.account) == before
    assert not UserProfile.objects.filter(account=tenant_b.account,
                                          user__username="intruder@evil.test").exists()
    assert not UserProfile.objects.filter(account=tenant_b.account, user=user).exists()


def test_a_list_pages_only_list_a(tenant_a, tenant_b, world):
    client = host_client(tenant_a.host, tenant_a.admin.user)
    secrets = _b_secrets(tenant_b, world)
    for path in ("/", "/console/", "/console/account/", "/console/members/", "/console/contacts/",
                 "/console/workspaces/", "/console/api-keys/"):
        response = client.get(path)
        assert response.status_code == 200
        body = response.content.decode()
        for secret in secrets:
            assert secret not in body, (path, secret)
    # A member of both accounts sees only the addressed tenant's rows on each host.
    both = world["extra"].user
    UserProfile.objects.create(user=both, account=tenant_a.account)
    response = host_client(tenant_a.host, both).get("/")
    assert response.status_code == 200
    assert "bravo-vault" not in response.content.decode()
    response = host_client(tenant_b.host, both).get("/")
    assert "bravo-vault" in response.content.decode()
