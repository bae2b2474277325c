"""Links and redirects carry the scheme and port the client used (issue 22, item 2): the
trusted proxy's X-Forwarded-Proto/-Port, the Host's port only on a direct connection to that
port, never the server's bind port; X-Forwarded-Proto is ignored without trusted proxies."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.test import RequestFactory

from domains.models import Domain
from tenancy.client_origin import client_origin
from tests.conftest import host_client
from tests.support.domain_support import verified_domain
from tests.support.frontdoor_support import last_mail, link_with, links
from tests.test_security_settings import _env, _run

ROUTER: dict[str, Any] = {"SERVER_PORT": "8202", "HTTP_X_FORWARDED_PROTO": "https",
                          "HTTP_X_FORWARDED_PORT": "443", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}
CUSTOM = "www.alpha-corp.test"


@pytest.fixture
def behind_router(settings):  # type: ignore[no-untyped-def]
    """Heroku's router in front: one trusted proxy (settings derive the SSL header from it)."""
    settings.TRUSTED_PROXIES = 1
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = False
    return settings


@pytest.mark.parametrize(("proxies", "meta", "expected"), [
    (1, {**ROUTER, "HTTP_HOST": "h.test"}, "https://h.test"),
    (1, {**ROUTER, "HTTP_HOST": "h.test", "HTTP_X_FORWARDED_PORT": "8443"}, "https://h.test:8443"),
    (1, {**ROUTER, "HTTP_HOST": "h.test:6666", "HTTP_X_FORWARDED_PORT": "443"}, "https://h.test"),
    (1, {**ROUTER, "HTTP_HOST": "h.test", "HTTP_X_FORWARDED_PORT": "99999"}, "https://h.test"),
    (0, {**ROUTER, "HTTP_HOST": "h.test"}, "http://h.test"),  # headers of a client: ignored
    (0, {"HTTP_HOST": "h.test:8000", "SERVER_PORT": "8000"}, "http://h.test:8000"),  # runserver
    (0, {"HTTP_HOST": "h.test:6666", "SERVER_PORT": "8000"}, "http://h.test"),  # forged port
    (0, {"HTTP_HOST": "h.test", "SERVER_PORT": "8202"}, "http://h.test"),  # never the bind port
])
def test_client_origin(settings, proxies, meta, expected) -> None:  # type: ignore[no-untyped-def]
    settings.TRUSTED_PROXIES = proxies
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if proxies else None
    request = RequestFactory().get("/", **meta)
    assert client_origin(request, "h.test") == expected


@pytest.mark.parametrize(("proxies", "expected"), [("0", None), ("1", ["HTTP_X_FORWARDED_PROTO", "https"])])
def test_forwarded_proto_is_honoured_only_behind_trusted_proxies(tmp_path: Path, proxies, expected) -> None:  # type: ignore[no-untyped-def]
    code = "import json; from django.conf import settings as s; print(json.dumps(s.SECURE_PROXY_SSL_HEADER))"
    proc = _run([sys.executable, "-c", code], _env(tmp_path, TRUSTED_PROXIES=proxies))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == expected


def test_find_my_accounts_links_behind_the_router(platform, tenant_a, behind_router) -> None:  # type: ignore[no-untyped-def]
    email = tenant_a.admin.user.email
    EmailAddress.objects.create(user=tenant_a.admin.user, email=email, verified=True)  # matched only so
    assert host_client("localhost").post("/accounts/find/", {"email": email}, **ROUTER).status_code == 302
    assert links(last_mail(email)) == [f"https://{tenant_a.host}/"]


def test_canonical_redirect_behind_the_router(tenant_a, behind_router) -> None:  # type: ignore[no-untyped-def]
    domain = verified_domain(tenant_a.admin, CUSTOM)
    Domain.objects.filter(pk=domain.pk).update(is_canonical=True)
    response = host_client(tenant_a.host).get("/some/page?q=1", **ROUTER)
    assert response.status_code == 302
    assert response["Location"] == f"https://{CUSTOM}/some/page?q=1"


def test_forwarded_proto_of_a_direct_client_is_ignored(tenant_a) -> None:  # type: ignore[no-untyped-def]
    domain = verified_domain(tenant_a.admin, CUSTOM)
    Domain.objects.filter(pk=domain.pk).update(is_canonical=True)
    response = host_client(tenant_a.host).get("/x", **ROUTER)  # TRUSTED_PROXIES = 0
    assert response["Location"] == f"http://{CUSTOM}/x"
    assert not response.wsgi_request.is_secure()


def test_reset_link_never_carries_a_forged_host_port(tenant_a) -> None:  # type: ignore[no-untyped-def]
    email = tenant_a.member.user.email
    client = host_client(f"{tenant_a.host}:6666")
    assert client.post("/accounts/password/reset/", {"email": email}).status_code == 302
    link = link_with(last_mail(email), "/accounts/password/reset/key/")
    assert link.startswith(f"http://{tenant_a.host}/accounts/"), link


def test_reset_link_behind_the_router(tenant_a, behind_router) -> None:  # type: ignore[no-untyped-def]
    email = tenant_a.member.user.email
    response = host_client(tenant_a.host).post("/accounts/password/reset/", {"email": email},
                                                **{**ROUTER, "HTTP_X_FORWARDED_PORT": "8443"})
    assert response.status_code == 302
    link = link_with(last_mail(email), "/accounts/password/reset/key/")
    assert link.startswith(f"https://{tenant_a.host}:8443/accounts/"), link
