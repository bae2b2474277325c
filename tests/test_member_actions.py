"""One meaning for every membership change, whichever surface makes it.

The same changes (make an admin, demote, deactivate, reactivate, remove, and the refusals that
keep an account's last active admin) are driven through the console, the API, SCIM and the
Django admin, each on its own account set up alike; their outcomes (the membership, who owns
the member's workspace, their API keys, the account's contacts, the audit events) must be the
same and the expected ones. The memberships SSO, SCIM and an accepted invitation make are
compared the same way. Then the actions themselves: the rules, and the row lock that
serialises two admins demoting each other (PostgreSQL).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.test import Client

from accounts.actions import members
from accounts.actions.members import MemberChangeRefused
from accounts.models import AccountContact, ApiKey, UserProfile
from accounts.provisioning import add_member
from audit.models import AuditEvent
from identity.scim.models import ScimToken, ScimUser
from tests.conftest import PASSWORD, Tenant, host_client
from tests.support.api_support import ApiClient, make_key
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db
User = get_user_model()
SCIM = "application/scim+json"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
KINDS = ("accounts.userprofile", "workspaces.workspace", "accounts.apikey", "accounts.accountcontact")


class Surface:
    """One way an admin (or the account's identity provider) changes memberships."""

    name = ""

    def __init__(self, tenant: Tenant) -> None:
        self.tenant = tenant

    def make_admin(self, profile: UserProfile) -> int: ...
    def make_member(self, profile: UserProfile) -> int: ...
    def deactivate(self, profile: UserProfile) -> int: ...
    def reactivate(self, profile: UserProfile) -> int: ...
    def remove(self, profile: UserProfile) -> int: ...


class Console(Surface):
    """The console's forms, posted by the account's admin (a superuser for the last admin)."""

    name = "console"

    def __init__(self, tenant: Tenant, actor: Any = None) -> None:
        super().__init__(tenant)
        self.client = host_client(tenant.host, actor or tenant.admin.user)

    def _post(self, url: str, data: dict[str, str]) -> int:
        response = self.client.post(url, data, follow=True)
        assert response.status_code == 200
        failed = [m for m in response.context["messages"] if m.level_tag == "error"]
        return 409 if failed else 200

    def make_admin(self, profile: UserProfile) -> int:
        return self._post(f"/console/members/{profile.pk}/role/", {"role": "admin"})

    def make_member(self, profile: UserProfile) -> int:
        return self._post(f"/console/members/{profile.pk}/role/", {"role": "member"})

    def deactivate(self, profile: UserProfile) -> int:
        return self._post(f"/console/members/{profile.pk}/active/", {"active": "0"})

    def reactivate(self, profile: UserProfile) -> int:
        return self._post(f"/console/members/{profile.pk}/active/", {"active": "1"})

    def remove(self, profile: UserProfile) -> int:
        return self._post(f"/console/members/{profile.pk}/remove/", {})


class DjangoAdmin(Surface):
    """The tenant's Django admin: the membership's change form and its delete page."""

    name = "admin"

    def __init__(self, tenant: Tenant, actor: Any = None) -> None:
        super().__init__(tenant)
        self.client = host_client(tenant.host, actor or tenant.admin.user)

    def _change(self, profile: UserProfile, **values: Any) -> int:
        url = f"/admin/accounts/userprofile/{profile.pk}/change/"
        form = self.client.get(url).context["adminform"].form
        data = {name: form.initial.get(name, field.initial) for name, field in form.fields.items()}
        data = {k: v for k, v in {**data, **values}.items() if v is not None and v is not False}
        response = self.client.post(url, data)
        if response.status_code == 200:  # the form again, with the rule's error
            assert response.context["adminform"].form.non_field_errors()
            return 409
        assert response.status_code == 302, response.content[:500]
        return 200

    def make_admin(self, profile: UserProfile) -> int:
        return self._change(profile, role="admin")

    def make_member(self, profile: UserProfile) -> int:
        return self._change(profile, role="member")

    def deactivate(self, profile: UserProfile) -> int:
        return self._change(profile, is_active=False)

    def reactivate(self, profile: UserProfile) -> int:
        return self._change(profile, is_active="on")

    def remove(self, profile: UserProfile) -> int:
        response = self.client.post(f"/admin/accounts/userprofile/{profile.pk}/delete/", {"post": "yes"})
        if response.status_code == 403:  # a refused removal is not offered
            return 409
        assert response.status_code == 302, response.content[:500]
        return 200


class Api(Surface):
    """``/api/v1/users/`` with an admin's key (a superuser's for the last admin)."""

    name = "api"

    def __init__(self, tenant: Tenant, key_owner: UserProfile | None = None) -> None:
        super().__init__(tenant)
        _, raw = make_key(key_owner or tenant.admin)
        self.api = ApiClient(tenant.host, raw)

    def _status(self, response: Any) -> int:
        if response.status_code >= 400:
            assert response.json()["error"]["message"]
        return 200 if response.status_code in (200, 204) else int(response.status_code)

    def make_admin(self, profile: UserProfile) -> int:
        return self._status(self.api.patch(f"users/{profile.pk}/", {"role": "admin"}))

    def make_member(self, profile: UserProfile) -> int:
        return self._status(self.api.patch(f"users/{profile.pk}/", {"role": "member"}))

    def deactivate(self, profile: UserProfile) -> int:
        return self._status(self.api.patch(f"users/{profile.pk}/", {"is_active": False}))

    def reactivate(self, profile: UserProfile) -> int:
        return self._status(self.api.patch(f"users/{profile.pk}/", {"is_active": True}))

    def remove(self, profile: UserProfile) -> int:
        return self._status(self.api.delete(f"users/{profile.pk}/"))


class Scim(Surface):
    """SCIM 2.0 with the account's token: groups for roles, ``active``, DELETE."""

    name = "scim"

    def __init__(self, tenant: Tenant) -> None:
        super().__init__(tenant)
        _, raw = ScimToken.create(tenant.account, "idp", tenant.admin)
        self.client = Client(HTTP_HOST=tenant.host, HTTP_AUTHORIZATION=f"Bearer {raw}")
        self.ids: dict[int, str] = {}

    def link(self, profile: UserProfile) -> None:
        """The provider provisions the existing member (linked, not duplicated)."""
        user = profile.user
        body = {"schemas": [USER_SCHEMA], "userName": user.username, "active": True,
                "emails": [{"value": user.email, "primary": True}]}
        response = self._send("post", "/Users", body)
        assert response.status_code == 201, response.content
        assert ScimUser.objects.get(scim_id=response.json()["id"]).user_profile_id == profile.pk
        self.ids[profile.pk] = response.json()["id"]

    def _send(self, method: str, path: str, body: Any = None) -> Any:
        kwargs = {"data": body, "content_type": SCIM} if body is not None else {}
        return getattr(self.client, method)(f"/scim/v2{path}", **kwargs)

    def _status(self, response: Any) -> int:
        if response.status_code == 400:
            assert response.json()["scimType"] == "mutability", response.content
            return 409
        assert response.status_code in (200, 204), response.content
        return 200

    def _patch(self, path: str, *ops: dict[str, Any]) -> int:
        return self._status(self._send("patch", path, {"schemas": [PATCH_SCHEMA], "Operations": list(ops)}))

    def make_admin(self, profile: UserProfile) -> int:
        return self._patch("/Groups/admin", {"op": "add", "path": "members",
                                             "value": [{"value": self.ids[profile.pk]}]})

    def make_member(self, profile: UserProfile) -> int:
        return self._patch("/Groups/admin", {"op": "remove",
                                             "path": f'members[value eq "{self.ids[profile.pk]}"]'})

    def deactivate(self, profile: UserProfile) -> int:
        return self._patch(f"/Users/{self.ids[profile.pk]}", {"op": "replace", "path": "active",
                                                               "value": False})

    def reactivate(self, profile: UserProfile) -> int:
        return self._patch(f"/Users/{self.ids[profile.pk]}", {"op": "replace", "path": "active",
                                                               "value": True})

    def remove(self, profile: UserProfile) -> int:
        return self._status(self._send("delete", f"/Users/{self.ids[profile.pk]}"))


def _normal(value: Any, slug: str) -> Any:
    """Values of one tenant made comparable with another's: names without the slug, no ids."""
    if isinstance(value, str):
        return value.replace(slug, "X")
    if isinstance(value, dict):
        return {k: _normal(v, slug) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(v, slug) for v in value]
    return value


def _event(event: AuditEvent, slug: str, ids: dict[str, dict[int, str]]) -> tuple[Any, ...]:
    """An event without the ids of its tenant: owners and users named by who they are."""
    changes = {}
    for name, change in sorted(event.changes.items()):
        if name == "cascade":
            changes[name] = change
        elif name in ids and isinstance(change, list):
            changes[name] = [ids[name].get(v, v) if v is not None else None for v in change]
        elif name not in ("account_id", "id"):
            changes[name] = change
    return (event.action, event.target_kind, _normal(changes, slug))


class Outcome:
    """What an account looks like after a change, comparable across accounts."""

    def __init__(self, tenant: Tenant, slug: str, since: int) -> None:
        member = UserProfile.objects.filter(pk=tenant.member.pk).first()
        self.membership = None if member is None else (member.role, member.is_active)
        ids = {"user_profile_id": {tenant.admin.pk: "admin", tenant.member.pk: "member"},
               "user_id": {tenant.admin.user_id: "admin-user", tenant.member.user_id: "member-user"}}
        space = Workspace.objects.get(account=tenant.account, name=f"{slug}-space")
        self.workspace_owner = ids["user_profile_id"][space.user_profile_id]
        self.member_keys = ApiKey.objects.filter(user_profile_id=tenant.member.pk).count()
        self.contacts = sorted(_normal(e, slug) for e in AccountContact.objects.filter(
            account=tenant.account).values_list("email", flat=True))
        self.user_stays = User.objects.filter(pk=tenant.member.user_id).exists()
        events = AuditEvent.objects.filter(account=tenant.account, pk__gt=since,
                                           target_kind__in=KINDS).order_by("pk")
        self.events = [_event(e, slug, ids) for e in events]

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


def _last_event_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _prepare(make_tenant: Callable[..., Tenant], slug: str) -> Tenant:
    tenant = make_tenant(slug)
    Workspace.objects.create(user_profile=tenant.member, name=f"{slug}-space")
    make_key(tenant.member, "member key")
    return tenant


def _surfaces(make_tenant: Callable[..., Tenant]) -> list[tuple[str, Tenant, Surface]]:
    made = []
    for slug, kind in (("cons", Console), ("apis", Api), ("scim", Scim), ("djad", DjangoAdmin)):
        tenant = _prepare(make_tenant, slug)
        surface = kind(tenant)
        if isinstance(surface, Scim):
            surface.link(tenant.member)
            surface.link(tenant.admin)
        made.append((slug, tenant, surface))
    return made


def _run(make_tenant: Callable[..., Tenant], change: Callable[[Surface, Tenant], int]) -> dict[str, Any]:
    """``change`` through each surface on its own account: the status and outcome per surface."""
    results = {}
    for slug, tenant, surface in _surfaces(make_tenant):
        since = _last_event_pk()
        status = change(surface, tenant)
        results[surface.name] = {"status": status, **Outcome(tenant, slug, since).as_dict()}
    return results


SURFACES = {"console", "api", "scim", "admin"}


def _same_everywhere(results: dict[str, Any], surfaces: set[str] = SURFACES) -> dict[str, Any]:
    """The one outcome every surface had (each surface must have run)."""
    assert set(results) == surfaces
    first = next(iter(results.values()))
    for name, outcome in results.items():
        assert outcome == first, f"{name} differs: {outcome} != {first}"
    return dict(first)


CONTACTS = ["admin@X.test", "member@X.test"]


def test_make_admin_and_demote_are_the_same_everywhere(make_tenant):
    def change(surface: Surface, tenant: Tenant) -> int:
        assert surface.make_admin(tenant.member) == 200
        return surface.make_member(tenant.member)

    outcome = _same_everywhere(_run(make_tenant, change))
    assert outcome["status"] == 200 and outcome["membership"] == ("member", True)
    assert outcome["events"] == [
        ("updated", "accounts.userprofile", {"role": ["member", "admin"]}),
        ("updated", "accounts.userprofile", {"role": ["admin", "member"]}),
    ]
    assert outcome["workspace_owner"] == "member" and outcome["member_keys"] == 1
    assert outcome["contacts"] == CONTACTS


def test_deactivate_and_reactivate_are_the_same_everywhere(make_tenant):
    def change(surface: Surface, tenant: Tenant) -> int:
        assert surface.deactivate(tenant.member) == 200
        assert not UserProfile.objects.get(pk=tenant.member.pk).is_active
        return surface.reactivate(tenant.member)

    outcome = _same_everywhere(_run(make_tenant, change))
    assert outcome["status"] == 200 and outcome["membership"] == ("member", True)
    assert outcome["events"] == [
        ("updated", "accounts.userprofile", {"is_active": [True, False]}),
        ("updated", "accounts.userprofile", {"is_active": [False, True]}),
    ]
    assert (outcome["workspace_owner"], outcome["member_keys"]) == ("member", 1)


def test_remove_hands_the_workspace_over_everywhere(make_tenant):
    """The bug this fixes: the API's remove deleted the member's workspaces, SCIM's only
    deactivated. Now each removes the membership and the workspace goes to the admin."""
    outcome = _same_everywhere(_run(make_tenant, lambda s, t: s.remove(t.member)))
    assert outcome["status"] == 200
    assert outcome["membership"] is None  # the membership is gone ...
    assert outcome["workspace_owner"] == "admin"  # ... its workspace handed over, not deleted
    assert outcome["member_keys"] == 0  # keys end with the membership
    assert outcome["contacts"] == CONTACTS and outcome["user_stays"]
    handed, deleted = outcome["events"]
    assert handed == ("updated", "workspaces.workspace", {"user_profile_id": ["member", "admin"]})
    assert deleted[:2] == ("deleted", "accounts.userprofile")
    assert deleted[2]["cascade"] == {"accounts.apikey": 1}
    assert deleted[2]["role"] == ["member", None] and deleted[2]["user_id"] == ["member-user", None]


def _superuser_member(tenant: Tenant, slug: str) -> UserProfile:
    """A platform superuser's plain membership of the account (its key acts as a superuser)."""
    root, _ = add_member(tenant.account, f"root-{slug}", password=PASSWORD, superuser=True)
    UserProfile.objects.filter(pk=root.pk).update(role=UserProfile.ROLE_MEMBER)
    root.refresh_from_db()
    return root


def test_the_last_active_admin_is_kept_everywhere(make_tenant, platform):
    """A superuser (who may act on any account) tries to demote, deactivate and remove the
    account's only admin: every surface refuses, with its own answer, and nothing changes."""
    results = {}
    for slug, kind in (("cons", Console), ("apis", Api), ("scim", Scim), ("djad", DjangoAdmin)):
        tenant = _prepare(make_tenant, slug)
        if kind is Console or kind is DjangoAdmin:
            surface: Surface = kind(tenant, actor=platform.admin.user)
        elif kind is Api:  # a superuser's key of a (non-admin) membership of this account
            surface = Api(tenant, key_owner=_superuser_member(tenant, slug))
        else:
            surface = Scim(tenant)
            surface.link(tenant.admin)
        since = _last_event_pk()
        statuses = [surface.make_member(tenant.admin), surface.deactivate(tenant.admin),
                    surface.remove(tenant.admin)]
        admin = UserProfile.objects.get(pk=tenant.admin.pk)
        results[surface.name] = {"statuses": statuses, "admin": (admin.role, admin.is_active),
                                 "events": Outcome(tenant, slug, since).events}
    outcome = _same_everywhere(results)
    assert outcome == {"statuses": [409, 409, 409], "admin": ("admin", True), "events": []}


def test_the_console_does_not_offer_a_refused_removal(tenant_a, platform):
    root = host_client(tenant_a.host, platform.admin.user)
    response = root.get(f"/console/members/{tenant_a.admin.pk}/remove/", follow=True)
    assert response.redirect_chain[-1][0] == "/console/members/"
    assert any("last active admin" in str(m) for m in response.context["messages"])
    page = root.get(f"/console/members/{tenant_a.member.pk}/remove/")
    assert page.status_code == 200 and b"from the account?" in page.content


def test_api_refusal_names_the_rule(tenant_a, platform):
    _, raw = make_key(_superuser_member(tenant_a, "alpha"))
    response = ApiClient(tenant_a.host, raw).delete(f"users/{tenant_a.admin.pk}/")
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "last_admin" and "last active admin" in error["message"]


# --- memberships made by an accepted invitation, SCIM and SSO ----------------------------------

def test_new_members_are_made_alike(tenant_a, make_tenant, monkeypatch):
    """An accepted invitation (via the console), a SCIM create and a first SSO sign-in all make
    the membership through ``do_add_member``: an active member with the contact, one event."""
    from tests.support.frontdoor_support import host_and_path, last_mail, link_with
    from tests.support.sso_support import make_key_pair, saml_provider, verify_email_domain
    from tests.test_sso_saml import post_response, respond, start

    made: list[UserProfile] = []
    real = members.do_add_member

    def spy(*args: Any, **kwargs: Any) -> tuple[UserProfile, bool]:
        profile, created = real(*args, **kwargs)
        made.append(profile)
        return profile, created

    for module in ("accounts.invitations", "identity.scim.provisioning", "identity.sso.signin"):
        target = "members.do_add_member" if module.endswith("provisioning") else "do_add_member"
        monkeypatch.setattr(f"{module}.{target}", spy)

    results = {}
    # The console's invitation, accepted by a new person who chooses a password.
    invited = make_tenant("invt")
    console = host_client(invited.host, invited.admin.user)
    since = _last_event_pk()
    assert console.post("/console/members/", {"email": "new@invt.test", "role": "member"}).status_code == 302
    host, path = host_and_path(link_with(last_mail("new@invt.test"), "/invitations/"))
    password = "a-long-unique-password-42"
    assert host_client(host).post(path, {"first_name": "New", "password1": password,
                                         "password2": password}).status_code == 302
    results["invitation"] = (invited, since)
    # SCIM creates a new person.
    scimmed = make_tenant("scmt")
    scim = Scim(scimmed)
    since = _last_event_pk()
    body = {"schemas": [USER_SCHEMA], "userName": "new@scmt.test", "active": True,
            "emails": [{"value": "new@scmt.test", "primary": True}]}
    assert scim._send("post", "/Users", body).status_code == 201
    results["scim"] = (scimmed, since)
    # A first SAML sign-in of a new person (no admin group: the provider's default role).
    keys = make_key_pair()
    verify_email_domain(tenant_a.account, "alpha.test")
    saml = saml_provider(tenant_a.account, keys, entity_id="https://idp.example.test/")
    client = host_client(tenant_a.host)
    since = _last_event_pk()
    answer = respond(keys, tenant_a.host, saml.slug, start(client, saml.slug), email="new@alpha.test")
    assert post_response(client, saml.slug, answer).status_code == 302
    results["sso"] = (tenant_a, since)

    assert len(made) == 3
    outcomes = {}
    for name, (tenant, since) in results.items():
        profile = UserProfile.objects.get(account=tenant.account, user__email__startswith="new@")
        slug = tenant.account.company_name.split()[0].lower()
        events = AuditEvent.objects.filter(account=tenant.account, pk__gt=since,
                                           target_kind="accounts.userprofile")
        contacts = AccountContact.objects.filter(account=tenant.account, email__startswith="new@")
        outcomes[name] = {
            "membership": (profile.role, profile.is_active),
            "contact": _normal(list(contacts.values_list("email", flat=True)), slug),
            "events": [(e.action, e.changes["role"], e.changes["is_active"]) for e in events],
        }
        assert profile in made
    outcome = _same_everywhere(outcomes, {"invitation", "scim", "sso"})
    assert outcome["membership"] == ("member", True)
    assert outcome["events"] == [("created", [None, "member"], [None, True])]
    assert outcome["contact"] in (["new@X.test"], ["new@alpha.test"])


# --- the actions themselves ---------------------------------------------------------------------

def test_own_membership_and_bad_role_are_refused(tenant_a):
    with pytest.raises(MemberChangeRefused) as refused:
        members.do_deactivate_member(tenant_a.admin, acting_user=tenant_a.admin.user)
    assert refused.value.code == MemberChangeRefused.OWN_MEMBERSHIP
    with pytest.raises(MemberChangeRefused) as refused:
        members.do_change_member_role(tenant_a.member, "owner", acting_user=tenant_a.admin.user)
    assert refused.value.code == MemberChangeRefused.BAD_ROLE
    assert UserProfile.objects.get(pk=tenant_a.member.pk).role == "member"


def test_a_membership_removed_meanwhile_is_a_refusal_not_a_crash(tenant_a):
    stale = UserProfile.objects.get(pk=tenant_a.member.pk)
    UserProfile.objects.filter(pk=stale.pk).delete()
    for change in (lambda: members.do_deactivate_member(stale), lambda: members.do_remove_member(stale)):
        with pytest.raises(MemberChangeRefused) as refused:
            change()
        assert refused.value.code == MemberChangeRefused.GONE


def test_an_admin_whose_user_is_inactive_does_not_count(tenant_a):
    second, _ = add_member(tenant_a.account, "second-admin", admin=True)
    User.objects.filter(pk=second.user_id).update(is_active=False)
    with pytest.raises(MemberChangeRefused) as refused:
        members.do_change_member_role(tenant_a.admin, "member")
    assert refused.value.code == MemberChangeRefused.LAST_ADMIN
    User.objects.filter(pk=second.user_id).update(is_active=True)
    assert members.do_change_member_role(tenant_a.admin, "member").role == "member"


def test_removal_without_an_heir_is_refused_only_when_rows_would_be_orphaned(tenant_a):
    """An account without an active admin (a state the rules never make; an operator's data
    may): a member who owns nothing may go, one who owns a workspace may not."""
    UserProfile.objects.filter(pk=tenant_a.admin.pk).update(is_active=False)
    Workspace.objects.create(user_profile=tenant_a.member, name="kept")
    with pytest.raises(MemberChangeRefused) as refused:
        members.do_remove_member(tenant_a.member)
    assert refused.value.code == MemberChangeRefused.NO_HEIR
    assert Workspace.objects.filter(name="kept", user_profile=tenant_a.member).exists()
    Workspace.objects.filter(name="kept").delete()
    removal = members.do_remove_member(tenant_a.member)
    assert (removal.heir, removal.moved) == (None, 0)


def test_the_acting_admin_takes_the_rows_over(tenant_a):
    second, _ = add_member(tenant_a.account, "second-admin", admin=True)
    Workspace.objects.create(user_profile=tenant_a.member, name="ws")
    removal = members.do_remove_member(tenant_a.member, acting_user=second.user)
    assert removal.heir == second and removal.moved == 1
    assert Workspace.objects.get(name="ws").user_profile_id == second.pk


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite has no row locks to race")
def test_two_admins_demoting_each_other_leave_one(transactional_db, make_tenant):
    """Each of two admins demotes the other at the same moment: the rows are locked, so the
    second waits for the first and then sees it would take the last admin away."""
    from tenancy.context import tenant_context

    tenant = make_tenant("race")
    second, _ = add_member(tenant.account, "race-second", admin=True)
    first = tenant.admin
    locked, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def demote(profile: UserProfile, hold: bool) -> None:
        try:
            with tenant_context(tenant.account.pk), transaction.atomic():
                members.do_change_member_role(profile, "member")
                if hold:
                    locked.set()
                    release.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported to the test's thread
            errors.append(exc)
        finally:
            connection.close()

    one = threading.Thread(target=demote, args=(second, True))
    one.start()
    assert locked.wait(10)
    two = threading.Thread(target=demote, args=(first, False))
    two.start()
    two.join(0.5)
    assert two.is_alive()  # waiting for the first transaction's row locks
    release.set()
    one.join(10)
    two.join(10)
    assert [type(e) for e in errors] == [MemberChangeRefused]
    roles = dict(UserProfile.objects.filter(account=tenant.account, role="admin")
                 .values_list("pk", "is_active"))
    assert roles == {first.pk: True}
