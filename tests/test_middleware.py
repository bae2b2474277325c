"""Tenant middleware: request attributes, context clean-up, strangers, zero-query resolution."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from accounts.models import Account
from middleware.tenant import TenantHostMiddleware
from tenancy.context import get_current_account_id
from tests.conftest import PASSWORD, host_client
from workspaces.models import Workspace


@pytest.fixture
def spaces(tenant_a, tenant_b):
    a_pub = Workspace.objects.create(user_profile=tenant_a.admin, name="team", is_public=True)
    a_priv = Workspace.objects.create(user_profile=tenant_a.admin, name="secret-a")
    b_pub = Workspace.objects.create(user_profile=tenant_b.admin, name="team", is_public=True,
                                     description="bravo public")
    return a_pub, a_priv, b_pub


def test_request_attributes_on_each_host_kind(platform, tenant_a, spaces):
    a_pub, _, _ = spaces
    request = host_client("localhost").get("/").wsgi_request
    assert request.account == platform.account and request.workspace is None
    assert request.user_profile is None and not request.user.is_authenticated

    request = host_client(tenant_a.host).get("/").wsgi_request
    assert request.account == tenant_a.account and request.workspace is None
    assert request.host_info.kind == "tenant"

    request = host_client(tenant_a.workspace_host("team"), tenant_a.member.user).get("/").wsgi_request
    assert request.account == tenant_a.account
    assert request.workspace == a_pub
    assert request.user_profile.pk == tenant_a.member.pk
    assert request.user == tenant_a.member.user


def test_superuser_is_kept_without_a_profile(platform, tenant_a):
    request = host_client(tenant_a.host, platform.admin.user).get("/").wsgi_request
    assert request.user == platform.admin.user and request.user_profile is None


def test_workspaces_are_per_account(tenant_a, tenant_b, spaces):
    _, _, b_pub = spaces
    body = host_client(tenant_b.workspace_host("team")).get("/").content.decode()
    assert "bravo public" in body
    response = host_client(tenant_a.workspace_host("team")).get("/")
    assert response.wsgi_request.workspace != b_pub
    assert "bravo public" not in response.content.decode()


def test_tenant_context_set_during_and_cleared_after_request(tenant_a, monkeypatch):
    seen = []
    import workspaces.views as views

    real_render = views.render

    def spy(request, *args, **kwargs):
        seen.append(get_current_account_id())
        return real_render(request, *args, **kwargs)

    monkeypatch.setattr(views, "render", spy)
    assert get_current_account_id() is None
    assert host_client(tenant_a.host).get("/").status_code == 200
    assert seen == [tenant_a.account.pk]
    assert get_current_account_id() is None


def test_tenant_context_cleared_when_the_view_raises(tenant_a, monkeypatch):
    seen = []
    import workspaces.views as views

    def boom(request, *args, **kwargs):
        seen.append(get_current_account_id())
        raise RuntimeError("view failed")

    monkeypatch.setattr(views, "render", boom)
    client = host_client(tenant_a.host)
    client.raise_request_exception = False
    response = client.get("/")
    assert response.status_code == 500
    assert seen == [tenant_a.account.pk]
    assert get_current_account_id() is None
    client.raise_request_exception = True
    with pytest.raises(RuntimeError):
        client.get("/")
    assert get_current_account_id() is None


def test_tenant_context_cleared_after_404(tenant_a):
    response = host_client(tenant_a.workspace_host("missing")).get("/")
    assert response.status_code == 404
    assert get_current_account_id() is None


def test_session_of_tenant_a_is_anonymous_on_tenant_b(tenant_a, tenant_b, spaces):
    """With a shared cookie domain, A's session reaches B's host: B treats it as a stranger."""
    client = host_client(tenant_a.host)
    client.force_login(tenant_a.admin.user)
    assert client.get("/console/").status_code == 200
    response = client.get("/console/", HTTP_HOST=tenant_b.host)
    assert response.status_code == 302 and "/login/" in response["Location"]
    request = response.wsgi_request
    assert isinstance(request.user, AnonymousUser) and request.user_profile is None
    response = client.get("/", HTTP_HOST=tenant_b.host)
    body = response.content.decode()
    assert tenant_a.admin.user.username not in body and "Sign in" in body
    assert response.wsgi_request.account == tenant_b.account
    # Still signed in on A afterwards.
    assert client.get("/console/").status_code == 200


def test_session_on_b_workspace_and_member_of_a(tenant_a, tenant_b, spaces):
    private_b = Workspace.objects.create(user_profile=tenant_b.admin, name="hidden-b")
    client = host_client(tenant_a.host, tenant_a.member.user)
    response = client.get("/", HTTP_HOST=tenant_b.workspace_host(private_b.name))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_deactivated_membership_is_anonymous(tenant_a, spaces):
    _, a_priv, _ = spaces
    client = host_client(tenant_a.host, tenant_a.admin.user)
    assert client.get("/console/").status_code == 200
    profile = tenant_a.admin
    profile.is_active = False
    profile.save()
    response = client.get("/console/")
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert not response.wsgi_request.user.is_authenticated
    response = client.get("/")
    assert a_priv.name not in response.content.decode()
    response = client.get("/", HTTP_HOST=tenant_a.workspace_host(a_priv.name))
    assert response.status_code == 302


def test_inactive_user_is_anonymous(tenant_a):
    client = host_client(tenant_a.host, tenant_a.admin.user)
    user = tenant_a.admin.user
    user.is_active = False
    user.save()
    response = client.get("/console/")
    assert response.status_code == 302


def test_deactivated_account_is_404_at_once(tenant_a):
    client = host_client(tenant_a.host)
    assert client.get("/").status_code == 200
    account = tenant_a.account
    account.is_active = False
    account.save()
    assert client.get("/").status_code == 404
    assert Account.objects.get(pk=account.pk).is_active is False


def test_member_login_page_on_own_tenant(tenant_a):
    client = host_client(tenant_a.host)
    response = client.post("/login/", {"login": tenant_a.member.user.username,
                                       "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").wsgi_request.user_profile.pk == tenant_a.member.pk


# --- zero queries for tenant resolution once warm -------------------------------------------

def test_warm_public_workspace_page_needs_no_queries(tenant_a, spaces, django_assert_num_queries):
    client = host_client(tenant_a.workspace_host("team"))
    assert client.get("/").status_code == 200  # warm the caches
    with django_assert_num_queries(0):
        response = client.get("/")
    assert response.status_code == 200
    assert response.wsgi_request.workspace.name == "team"


def test_warm_resolution_of_every_shape_needs_no_queries(platform, tenant_a, spaces):
    factory = RequestFactory()
    middleware = TenantHostMiddleware(lambda request: HttpResponse("ok"))
    hosts = ["localhost", "alpha.api.localhost", tenant_a.host, tenant_a.workspace_host("team"),
             tenant_a.workspace_host("secret-a"), "9999-9999-9999.alpha.api.localhost"]
    for host in hosts:  # warm, unknown account included (cached as a miss)
        try:
            middleware(factory.get("/", HTTP_HOST=host))
        except Exception:  # noqa: BLE001,S110 - the unknown account raises Http404
            pass
    with CaptureQueriesContext(connection) as queries:
        for host in hosts[:-1]:
            request = factory.get("/", HTTP_HOST=host)
            assert middleware(request).status_code == 200
            assert request.account is not None
        from django.http import Http404
        with pytest.raises(Http404):
            middleware(factory.get("/", HTTP_HOST=hosts[-1]))
    assert len(queries) == 0, [q["sql"] for q in queries]


def test_warm_member_request_resolution_needs_no_queries(tenant_a, spaces):
    """Signed in, the session and user cost queries; the tenant and profile do not (on a page
    that reads none of those tables itself: the workspace page lists the members to members)."""
    client = host_client(tenant_a.workspace_host("team"), tenant_a.member.user)
    client.get("/accounts/profile/")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/accounts/profile/").status_code == 200
    sqls = " ".join(q["sql"] for q in queries)
    for table in ("accounts_account", "accounts_userprofile", "workspaces_workspace"):
        assert table not in sqls, sqls
