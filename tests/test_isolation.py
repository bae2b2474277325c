"""Tenant isolation over EVERY URL pattern of the tenant URLconf.

The generator walks ``smarter.urls.tenant`` recursively, fills each path parameter with the
ids of tenant B's rows (of the matching kind when the URL names it, otherwise every B row id),
then on tenant A's host:

* as A's member, A's admin, anonymously (and with A's API key on ``api/`` URLs) asserts no
  response ever contains B's company name, usernames, emails or workspace names;
* as B's member and B's admin (session and, on ``api/`` URLs, B's API key) sends GET and POST
  to every URL and asserts A's rows are byte-for-byte unchanged.

A new URL is covered automatically; a parameter this file cannot fill fails the test by name.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from accounts.models import Account, AccountContact, HandoffToken, Invitation, UserProfile
from audit.models import AuditEvent
from domains.models import Domain
from identity.emaildomains.models import EmailDomain
from identity.scim.models import ScimToken, ScimUser
from identity.sso.models import IdentityProvider
from lifecycle.models import DataExport
from tests.conftest import host_client
from tests.support.domain_support import verified_domain
from tests.support.sso_support import make_key_pair, saml_provider, verify_email_domain
from workspaces.models import Workspace

try:  # the API keys model may not exist on every branch
    from accounts.models import ApiKey
except ImportError:  # pragma: no cover
    ApiKey = None  # type: ignore[assignment,misc]

ID_PARAMS = {"pk", "id", "object_id"}
# SCIM resource ids (scim/urls.py): B's SCIM user ids, and the role groups' ids.
UUID_PARAMS = {"uuid"}
# A parameter name or regex group this file knows how to fill, beside the id ones.
FIXED_PARAMS = {"app_label": "accounts", "url": "", "key": "x", "uidb36": "1"}
# Emailed tokens: filled with B's live tokens (invitation, hand-off), which must not work on A's host.
TOKEN_PARAMS = {"token"}
# allauth's socialaccount names an identity provider by its slug: filled with B's providers'.
SLUG_PARAMS = {"provider_id", "organization_slug"}
PARAM_RE = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>|\(\?P<(?P<rname>\w+)>(?:[^()]|\([^()]*\))*\)")


def _walk(patterns: list[Any], prefix: str = "", name_prefix: str = "") -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            ns = f"{p.namespace}:" if p.namespace else ""
            out += _walk(p.url_patterns, prefix + str(p.pattern), name_prefix + ns)
        elif isinstance(p, URLPattern):
            out.append((prefix + str(p.pattern), name_prefix + (p.name or "")))
    return out


def all_patterns() -> list[tuple[str, str]]:
    return _walk(get_resolver("smarter.urls.tenant").url_patterns)


def _kind_ids(route: str, name: str, ids: dict[str, list[int]]) -> list[int]:
    text = f"{route} {name}".lower()
    for keys, kind in (
        (("email-domain",), "emaildomain"),  # before "domain"
        (("sso",), "ssoprovider"),
        (("domain",), "domain"),  # before "workspace": console/domains/<pk>/workspace/
        (("audit",), "auditevent"),
        (("export",), "export"),
        (("apikey", "api-key", "api_key"), "apikey"),
        (("scim",), "scimtoken"),
        (("workspace",), "workspace"),
        (("invitation",), "invitation"),
        (("contact",), "contact"),
        (("member", "userprofile"), "profile"),
        (("auth_user", "api-user", "users"), "user+profile"),
        (("accounts_account",), "account"),
    ):
        if any(k in text for k in keys):
            if kind == "user+profile":
                return sorted(set(ids["user"]) | set(ids["profile"]))
            return ids[kind]
    return sorted({i for k, v in ids.items() if k not in ("token", "scim_uuid", "sso_slug") for i in v})


def expand(route: str, name: str, ids: dict[str, list[int]]) -> list[str]:
    """Concrete paths for one pattern; raises a clear AssertionError for an unknown parameter."""
    params = [m.group("name") or m.group("rname") for m in PARAM_RE.finditer(route)]
    unknown = [p for p in params if p not in ID_PARAMS and p not in FIXED_PARAMS
               and p not in TOKEN_PARAMS and p not in UUID_PARAMS and p not in SLUG_PARAMS
               and p != "content_type_id"]
    assert not unknown, (
        f"test_isolation cannot fill parameter(s) {unknown} of URL pattern {route!r} ({name}); "
        "teach tests/test_isolation.py how to fill them so the URL stays covered")
    values: list[int | str] = _kind_ids(route, name, ids) if any(p in ID_PARAMS for p in params) else [0]
    if any(p in TOKEN_PARAMS for p in params):
        values = list(ids.get("token", [])) or ["x"]
    if any(p in UUID_PARAMS for p in params):
        values = [*ids.get("scim_uuid", []), "admin", "member", "User", "Group"]
    if any(p in SLUG_PARAMS for p in params):
        values = list(ids.get("sso_slug", [])) or ["x"]
    paths = []
    for value in values:
        def fill(m: re.Match[str], value: int | str = value) -> str:
            p = m.group("name") or m.group("rname")
            if p in FIXED_PARAMS:
                return FIXED_PARAMS[p]
            if p in TOKEN_PARAMS or p in UUID_PARAMS or p in SLUG_PARAMS:
                return str(value)
            if p == "content_type_id":
                return str(ids["content_type"][0]) if ids["content_type"] else "1"
            return str(value)
        path = PARAM_RE.sub(fill, route)
        # Strip regex anchors and the rare escapes left by regex patterns.
        path = path.replace("^", "").replace("$", "").replace("\\", "")
        paths.append("/" + path)
    return paths


def test_expand_fails_clearly_on_an_unknown_parameter() -> None:
    with pytest.raises(AssertionError, match="cannot fill parameter.*slug"):
        expand("things/<slug:slug>/", "thing", {"content_type": []})


def _b_ids(b) -> dict[str, list[int]]:  # type: ignore[no-untyped-def]
    from django.contrib.contenttypes.models import ContentType

    acc = b.account
    ids = {
        "account": [acc.pk],
        "profile": list(UserProfile.objects.filter(account=acc).values_list("pk", flat=True)),
        "user": list(UserProfile.objects.filter(account=acc).values_list("user_id", flat=True)),
        "contact": list(AccountContact.objects.filter(account=acc).values_list("pk", flat=True)),
        "workspace": list(Workspace.objects.filter(account=acc).values_list("pk", flat=True)),
        "apikey": (list(ApiKey.objects.filter(account=acc).values_list("pk", flat=True))
                   if ApiKey is not None else []),
        "domain": list(Domain.objects.filter(account=acc).values_list("pk", flat=True)),
        "content_type": [ContentType.objects.get_for_model(Workspace).pk],
        "invitation": list(Invitation.objects.filter(account=acc).values_list("pk", flat=True)),
        "token": list(getattr(b, "tokens", [])),
        "auditevent": list(AuditEvent.objects.filter(account=acc).values_list("pk", flat=True)),
        "export": list(DataExport.objects.filter(account=acc).values_list("pk", flat=True)),
        "scimtoken": list(ScimToken.objects.filter(account=acc).values_list("pk", flat=True)),
        "scim_uuid": [str(u) for u in ScimUser.objects.filter(account=acc).values_list("scim_id", flat=True)],
        "ssoprovider": list(IdentityProvider.objects.filter(account=acc).values_list("pk", flat=True)),
        "sso_slug": [p.slug for p in IdentityProvider.objects.filter(account=acc).select_related("account")],
        "emaildomain": list(EmailDomain.objects.filter(account=acc).values_list("pk", flat=True)),
    }
    return ids


def _snapshot(account: Account) -> dict[str, list[tuple]]:
    users = UserProfile.objects.filter(account=account).values_list("user_id", flat=True)
    snap = {
        "account": list(Account.objects.filter(pk=account.pk).values_list()),
        "profiles": list(UserProfile.objects.filter(account=account).order_by("pk").values_list()),
        "users": list(User.objects.filter(pk__in=list(users)).order_by("pk").values_list(
            "pk", "username", "email", "password", "is_active", "is_staff", "is_superuser")),
        "contacts": list(AccountContact.objects.filter(account=account).order_by("pk").values_list()),
        "workspaces": list(Workspace.objects.filter(account=account).order_by("pk").values_list()),
        "domains": list(Domain.objects.filter(account=account).order_by("pk").values_list(
            "pk", "hostname", "status", "token", "workspace_id", "is_canonical", "verified_at",
            "last_checked_at", "failing_since")),
        "invitations": list(Invitation.objects.filter(account=account).order_by("pk").values_list()),
        "exports": list(DataExport.objects.filter(account=account).order_by("pk").values_list()),
        "closed": list(Account.objects.filter(pk=account.pk).values_list("is_active", "closed_at")),
        # A's own SCIM token is used by the reader "A SCIM token": its last_used_at may move.
        "scimtokens": list(ScimToken.objects.filter(account=account).order_by("pk").values_list(
            "pk", "prefix", "token_hash", "revoked_at")),
        "scimusers": list(ScimUser.objects.filter(account=account).order_by("pk").values_list()),
        "sso": list(IdentityProvider.objects.filter(account=account).order_by("pk").values_list()),
        "email_domains": list(EmailDomain.objects.filter(account=account).order_by("pk").values_list()),
        "sso_policy": list(Account.objects.filter(pk=account.pk).values_list("require_sso",
                                                                             "sso_session_max_age")),
    }
    if ApiKey is not None:
        # A's own key is used by the reader "A admin key": its last_used_at may move.
        snap["apikeys"] = list(ApiKey.objects.filter(account=account).order_by("pk").values_list(
            "pk", "prefix", "key_hash", "is_active", "expires_at", "revoked_at", "user_profile_id"))
    return snap


@pytest.fixture
def world(tenant_a, tenant_b):  # type: ignore[no-untyped-def]
    for t, tag in ((tenant_a, "alphaspace"), (tenant_b, "zqbravospace")):
        Workspace.objects.create(user_profile=t.admin, name=tag)
        Workspace.objects.create(user_profile=t.member, name=f"{tag}-two")
        verified_domain(t.admin, f"{tag}.custom-{tag}.test")
    # B's live emailed tokens: on A's host they must lead nowhere (404), and change nothing.
    _, invite = Invitation.issue(tenant_b.account, "invitee@bravo.test", "admin", tenant_b.admin)
    handoff = HandoffToken.issue(tenant_b.admin.user, tenant_b.account, tenant_b.host)
    tenant_b.tokens = [invite, handoff]
    DataExport.objects.create(account=tenant_b.account, requested_by=tenant_b.admin)
    for t, tag in ((tenant_a, "alphaidp"), (tenant_b, "zqbravoidp")):
        verify_email_domain(t.account, f"{tag}.test")
        saml_provider(t.account, make_key_pair(), entity_id=f"https://{tag}.test/", name=f"{tag} SAML")
        IdentityProvider(account=t.account, kind="oidc", name=f"{tag} OIDC", issuer=f"https://{tag}.test/o",
                         client_id=f"{tag}-client", metadata_checked_at=timezone.now()).save()
    keys = {}
    for t, slug in ((tenant_a, "a"), (tenant_b, "b")):
        _, keys[f"scim-{slug}"] = ScimToken.create(t.account, f"iso-{slug}", t.admin)
        scim_user = ScimUser.objects.create(user_profile=t.member, user_name=f"scim-{slug}")
        assert scim_user.account_id == t.account.pk
    if ApiKey is not None:
        for t, slug in ((tenant_a, "a"), (tenant_b, "b")):
            _, keys[slug] = ApiKey.create(t.admin, name=f"iso-{slug}")
    return tenant_a, tenant_b, keys


def _b_markers(b) -> list[str]:  # type: ignore[no-untyped-def]
    markers = [b.account.company_name]
    for p in UserProfile.objects.filter(account=b.account).select_related("user"):
        markers += [p.user.username, p.user.email]
    markers += list(AccountContact.objects.filter(account=b.account).values_list("email", flat=True))
    markers += list(Workspace.objects.filter(account=b.account).values_list("name", flat=True))
    for hostname, token in Domain.objects.filter(account=b.account).values_list("hostname", "token"):
        markers += [hostname, token]
    markers += list(Invitation.objects.filter(account=b.account).values_list("email", flat=True))
    for p in IdentityProvider.objects.filter(account=b.account).select_related("account"):
        markers += [p.name, p.slug, p.issuer, p.client_id, p.idp_entity_id]
    for domain, token in EmailDomain.objects.filter(account=b.account).values_list("domain", "token"):
        markers += [domain, token]
    return sorted({m for m in markers if m})


def test_every_pattern_is_walked() -> None:
    routes = [r for r, _ in all_patterns()]
    assert any("console/members/" in r for r in routes)
    for new in ("console/audit/", "console/exports/<int:pk>/download/", "console/close/",
                "console/security/scim/<int:pk>/revoke/", "scim/v2/Users/<str:uuid>",
                "api/v1/^audit-events/$", "api/v1/^exports/(?P<pk>[^/.]+)/$"):
        assert new in routes, new
    assert any(r.startswith("admin/") for r in routes)
    assert any(r.startswith("console/domains/") for r in routes)
    assert any(r.startswith("api/v1/") and "domains" in r for r in routes)
    assert len(routes) > 30


@pytest.mark.parametrize("served_on", ["number host", "custom domain"])
def test_no_url_on_a_host_leaks_b_or_lets_b_change_a(world, served_on, settings) -> None:  # type: ignore[no-untyped-def]
    # B's key fails on every API path here: without this, the failure limit would answer 429
    # before the authentication is even tried (tests/test_api_key_failures.py covers that).
    settings.API_AUTH_FAILURE_LIMIT = 1_000_000
    a, b, keys = world
    host = a.host if served_on == "number host" else Domain.objects.get(account=a.account).hostname
    assert host_client(host).get("/").wsgi_request.account == a.account
    ids = _b_ids(b)
    markers = _b_markers(b)
    assert "zqbravospace" in markers and "Bravo Corp" in markers
    paths = sorted({p for route, name in all_patterns() for p in expand(route, name, ids)})
    assert len(paths) > 50

    readers = {
        "anonymous": host_client(host),
        "A member": host_client(host, a.member.user),
        "A admin": host_client(host, a.admin.user),
    }
    attackers = {
        "B member": host_client(host, b.member.user),
        "B admin": host_client(host, b.admin.user),
    }
    before = _snapshot(a.account)
    leaks, errors, requests = [], [], 0

    def check(who: str, method: str, path: str, resp: Any) -> None:
        if resp.status_code >= 500:
            errors.append(f"{who} {method} {path} -> {resp.status_code}")
        body = b"".join(resp.streaming_content) if resp.streaming else resp.content
        text = body.decode("utf-8", "replace")
        for m in markers:
            if m in text:
                leaks.append(f"{who} {method} {path}: contains B's {m!r}")

    for path in paths:
        is_api = path.startswith("/api/")
        if path.startswith("/scim/"):
            resp = host_client(host).get(path, HTTP_AUTHORIZATION=f"Bearer {keys['scim-a']}")
            check("A SCIM token", "GET", path, resp)
            bk = host_client(host)
            for method in ("get", "post", "put", "patch", "delete"):
                resp = getattr(bk, method)(path, data={"userName": "hacked"} if method != "get" else None,
                                           content_type="application/scim+json",
                                           HTTP_AUTHORIZATION=f"Bearer {keys['scim-b']}")
                check("B SCIM token", method.upper(), path, resp)
                assert resp.status_code == 401, f"B's SCIM token on A's host: {method.upper()} {path}"
            requests += 6
        for who, client in readers.items():
            check(who, "GET", path, client.get(path))
            requests += 1
        if is_api and "a" in keys:
            resp = host_client(host).get(path, HTTP_AUTHORIZATION=f"Token {keys['a']}")
            check("A admin key", "GET", path, resp)
            requests += 1
        for who, client in attackers.items():
            check(who, "GET", path, client.get(path))
            check(who, "POST", path, client.post(path, {"name": "hacked", "role": "admin",
                                                       "email": "x@evil.test", "post": "yes"}))
            requests += 2
        if is_api and "b" in keys:
            bk = host_client(host)
            for method in ("get", "post", "patch", "delete"):
                resp = getattr(bk, method)(path, data={"name": "hacked"} if method != "get" else None,
                                           content_type="application/json",
                                           HTTP_AUTHORIZATION=f"Token {keys['b']}")
                check("B admin key", method.upper(), path, resp)
                requests += 1
                public = method == "get" and path.rstrip("/").rsplit("/", 1)[-1] in ("schema", "docs")
                assert public or resp.status_code in (401, 403, 404, 405), (
                    f"B's key on A's host: {method.upper()} {path} -> {resp.status_code}")

    assert not errors, "5xx responses:\n" + "\n".join(errors[:50])
    assert not leaks, "B's data shown on A's host:\n" + "\n".join(leaks[:50])
    after = _snapshot(a.account)
    for key in before:
        assert before[key] == after[key], f"B's users changed A's {key}"
    assert requests > 5 * len(paths)
