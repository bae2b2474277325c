"""The audit log: one event per change through the console, the API, the admin and commands,
with the right actor; append-only; per-account visibility; retention purge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.models import Account, AccountContact, ApiKey, UserProfile
from audit.models import AppendOnlyError, AuditEvent
from audit.tasks import purge_audit_events
from tenancy.operation import SOURCES
from tests.conftest import host_client
from tests.support.api_support import api_for, assert_error
from tests.support.frontdoor_support import host_and_path, last_mail, link_with
from workspaces.models import Workspace


def events_since(mark: int, **filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=mark, **filters).order_by("pk"))


def mark() -> int:
    last = AuditEvent.objects.order_by("-pk").first()
    return last.pk if last else 0


# --- one event per change, with its actor ---------------------------------------------------

def test_console_change_writes_one_event_with_actor_request_id_and_address(tenant_a):
    client = host_client(tenant_a.host, tenant_a.admin.user)
    start = mark()
    response = client.post("/console/contacts/", {"email": "new@alpha.test", "first_name": "N"},
                           HTTP_X_REQUEST_ID="req-console-0001")
    assert response.status_code == 302
    [event] = events_since(start)
    contact = AccountContact.objects.get(account=tenant_a.account, email="new@alpha.test")
    assert (event.action, event.target_kind, event.target_id) == (
        "created", "accounts.accountcontact", str(contact.pk))
    assert event.account_id == tenant_a.account.pk
    assert event.actor_user_id == tenant_a.admin.user_id
    assert event.actor_username == "alpha-admin"
    assert event.source == "console"
    assert event.request_id == "req-console-0001" == response["X-Request-ID"]
    assert event.client_ip == "127.0.0.1"
    assert event.changes["email"] == [None, "new@alpha.test"]


def test_joining_is_one_member_event_though_it_also_saves_a_contact(tenant_a):
    client = host_client(tenant_a.host, tenant_a.admin.user)
    response = client.post("/console/members/", {"email": "carol@alpha.test", "role": "member"})
    assert response.status_code == 302, response.content[:300]
    host, path = host_and_path(link_with(last_mail("carol@alpha.test"), "/invitations/"))
    start = mark()
    password = "Sup3r-secret-pw!-long"
    assert host_client(host).post(path, {"first_name": "Carol", "password1": password,
                                         "password2": password}).status_code == 302
    assert AccountContact.objects.filter(account=tenant_a.account, email="carol@alpha.test").exists()
    events = [(e.action, e.target_kind) for e in events_since(start)]
    assert events.count(("created", "accounts.userprofile")) == 1
    assert not [e for e in events if e[1] == "accounts.accountcontact"]


def test_console_role_change_records_old_and_new_value(tenant_a):
    client = host_client(tenant_a.host, tenant_a.admin.user)
    start = mark()
    client.post(f"/console/members/{tenant_a.member.pk}/role/", {"role": "admin"})
    [event] = events_since(start)
    assert event.action == "updated"
    assert event.changes == {"role": ["member", "admin"]}


def test_api_change_names_the_key_and_its_owner(tenant_a):
    api = api_for(tenant_a.admin)
    key = ApiKey.objects.filter(user_profile=tenant_a.admin).latest("pk")
    start = mark()
    response = api.post("workspaces/", {"name": "apiws"})
    assert response.status_code == 201
    [event] = events_since(start)
    assert (event.action, event.target_kind, event.source) == ("created", "workspaces.workspace", "api")
    assert event.actor_username == "alpha-admin"
    assert (event.actor_api_key_id, event.actor_api_key_prefix) == (key.pk, key.prefix)
    assert event.account_id == tenant_a.account.pk


def test_api_delete_with_cascade_is_one_event(tenant_a):
    api = api_for(tenant_a.admin)
    _, _ = ApiKey.create(tenant_a.member, "member key")
    start = mark()
    assert api.delete(f"users/{tenant_a.member.pk}/").status_code == 204
    [event] = events_since(start)
    assert (event.action, event.target_kind) == ("deleted", "accounts.userprofile")
    assert event.changes["cascade"] == {"accounts.apikey": 1}


def _admin_post_data(response) -> dict[str, object]:
    form = response.context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is not None:
            data[name] = value
    return data


def test_admin_change_is_one_event(tenant_a):
    client = host_client(tenant_a.host, tenant_a.admin.user)
    url = f"/admin/accounts/account/{tenant_a.account.pk}/change/"
    data = _admin_post_data(client.get(url))
    data["company_name"] = "Alpha Renamed"
    start = mark()
    response = client.post(url, data)
    assert response.status_code == 302, response.content[:500]
    [event] = events_since(start)
    assert (event.action, event.target_kind, event.source) == ("updated", "accounts.account", "admin")
    assert event.changes == {"company_name": ["Alpha Corp", "Alpha Renamed"]}
    assert event.actor_username == "alpha-admin"


def test_commands_write_one_event_each_attributed_to_the_command(tenant_a, capsys):
    start = mark()
    call_command("create_account", "Cmd Corp")
    number = capsys.readouterr().out.strip()
    [event] = events_since(start)
    account = Account.objects.get(account_number=number)
    assert (event.action, event.target_kind, event.account_id) == ("created", "accounts.account", account.pk)
    assert (event.source, event.source_label, event.actor) == ("command", "create_account",
                                                               "command:create_account")
    start = mark()
    call_command("create_user", "dave", "--account", number, "--email", "dave@cmd.test", "--admin")
    [event] = events_since(start)
    assert (event.target_kind, event.source_label) == ("accounts.userprofile", "create_user")


def test_a_save_that_changes_nothing_writes_no_event(tenant_a):
    start = mark()
    account = Account.objects.get(pk=tenant_a.account.pk)
    account.save()
    assert events_since(start) == []


def test_secrets_are_never_recorded(tenant_a):
    start = mark()
    ApiKey.create(tenant_a.admin, "secret test")
    [event] = events_since(start)
    assert "key_hash" not in event.changes and "prefix" in event.changes


def test_a_rolled_back_change_leaves_no_event(tenant_a):
    start = mark()
    with pytest.raises(RuntimeError), transaction.atomic():
        Workspace.objects.create(user_profile=tenant_a.admin, name="gone")
        raise RuntimeError
    assert events_since(start) == []


# --- append-only ----------------------------------------------------------------------------

def test_events_cannot_be_changed_or_deleted_through_the_orm(tenant_a):
    event = AuditEvent.objects.filter(account=tenant_a.account).first()
    assert event is not None
    event.action = "forged"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action != "forged"


def test_the_database_refuses_updates(tenant_a):
    event = AuditEvent.objects.filter(account=tenant_a.account).first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'forged' WHERE id = %s", [event.pk])
    assert AuditEvent.objects.get(pk=event.pk).action != "forged"


def test_retention_purge_removes_only_old_events(tenant_a, settings):
    settings.AUDIT_RETENTION_DAYS = 30
    old = AuditEvent.objects.create(account=tenant_a.account, source="system", action="x",
                                    target_kind="t", created_at=timezone.now() - timedelta(days=31))
    recent = AuditEvent.objects.create(account=tenant_a.account, source="system", action="y",
                                       target_kind="t", created_at=timezone.now() - timedelta(days=29))
    result = purge_audit_events.enqueue()
    assert result.return_value >= 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=recent.pk).exists()


# --- who sees which events ------------------------------------------------------------------

def test_console_audit_page_lists_and_filters_own_events_only(tenant_a, tenant_b):
    Workspace.objects.create(user_profile=tenant_b.admin, name="bravo-secret-ws")
    Workspace.objects.create(user_profile=tenant_a.admin, name="alpha-visible-ws")
    client = host_client(tenant_a.host, tenant_a.admin.user)
    page = client.get("/console/audit/").content.decode()
    assert "alpha-visible-ws" in page and "bravo-secret-ws" not in page
    filtered = client.get("/console/audit/", {"target_kind": "accounts.userprofile"}).content.decode()
    assert "alpha-visible-ws" not in filtered and "added alpha-member as member." in filtered
    assert "created the workspace" not in filtered
    bad = client.get("/console/audit/", {"since": "not-a-date"})  # said, next to the field
    assert bad.status_code == 400 and "No events match" in bad.content.decode()
    assert "Enter a date as year-month-day" in bad.content.decode()
    assert host_client(tenant_a.host, tenant_a.member.user).get("/console/audit/").status_code == 403
    assert host_client(tenant_a.host, tenant_b.admin.user).get("/console/audit/").status_code == 302


def test_platform_superuser_sees_every_account_on_the_platform_host(platform, tenant_a):
    Workspace.objects.create(user_profile=tenant_a.admin, name="alpha-visible-ws")
    client = host_client("localhost", platform.admin.user)
    assert "alpha-visible-ws" in client.get("/console/audit/").content.decode()


def test_api_lists_own_events_paginated_and_filtered(tenant_a, tenant_b, settings):
    Workspace.objects.create(user_profile=tenant_b.admin, name="bravo-secret-ws")
    for i in range(3):
        Workspace.objects.create(user_profile=tenant_a.admin, name=f"ws-{i}")
    api = api_for(tenant_a.admin)
    body = api.get("audit-events/", {"page_size": 2}).json()
    total = AuditEvent.objects.filter(account=tenant_a.account).count()
    assert body["count"] == total and len(body["results"]) == 2
    assert "bravo" not in str(api.get("audit-events/", {"page_size": 200}).json())
    ws = api.get("audit-events/", {"target_kind": "workspaces.workspace"}).json()
    assert ws["count"] == 3 and {r["target_repr"] for r in ws["results"]} == {"ws-0", "ws-1", "ws-2"}
    event_b = AuditEvent.objects.filter(account=tenant_b.account).first()
    assert api.get(f"audit-events/{event_b.pk}/").status_code == 404
    assert_error(api.get("audit-events/", {"since": "yesterday"}), 400)
    assert api.post("audit-events/", {}).status_code == 405
    assert_error(api_for(tenant_a.member).get("audit-events/"), 403)
    assert UserProfile.objects.filter(account=tenant_a.account).count() == 2


def test_admin_bulk_delete_writes_one_event_per_selected_row(tenant_a):
    rows = [Workspace.objects.create(user_profile=tenant_a.admin, name=f"bulk-{i}") for i in range(3)]
    client = host_client(tenant_a.host, tenant_a.admin.user)
    start = mark()
    response = client.post("/admin/workspaces/workspace/", {
        "action": "delete_selected", "_selected_action": [w.pk for w in rows], "post": "yes",
    })
    assert response.status_code == 302
    events = events_since(start)
    assert sorted(e.target_id for e in events) == sorted(str(w.pk) for w in rows)
    assert {(e.action, e.source, e.actor_username) for e in events} == {("deleted", "admin", "alpha-admin")}


@pytest.mark.django_db(transaction=True)
def test_change_and_event_commit_together_even_in_autocommit(tenant_a, monkeypatch):
    ws = Workspace.objects.create(user_profile=tenant_a.admin, name="atomic-ws")

    def broken(*args, **kwargs):
        raise RuntimeError("audit storage down")

    monkeypatch.setattr("audit.signals.record", broken)
    ws.name = "renamed-ws"
    with pytest.raises(RuntimeError):
        ws.save()
    assert Workspace.objects.get(pk=ws.pk).name == "atomic-ws"  # no change without its event


def test_platform_superusers_key_on_the_api_host_sees_every_account(platform, tenant_a, tenant_b):
    Workspace.objects.create(user_profile=tenant_b.admin, name="bravo-ws")
    body = api_for(platform.admin).get("audit-events/", {"target_kind": "workspaces.workspace",
                                                         "page_size": 200}).json()
    assert "bravo-ws" in {r["target_repr"] for r in body["results"]}
    assert tenant_b.account.account_number in {r["account"] for r in body["results"]}
    # ... while a tenant admin's key never does.
    body = api_for(tenant_a.admin).get("audit-events/", {"target_kind": "workspaces.workspace"}).json()
    assert body["count"] == 0


@pytest.mark.parametrize("value, status", [
    ("2026-01-31", 200), ("", 400), ("10/25/2006", 400), ("2006-1-5", 400), (" 2006-01-05", 400),
    ("٢٠٠٦-٠١-٠٥", 400),
])
def test_api_date_filters_take_the_documented_iso_form_only(tenant_a, value, status):
    """``since``/``until`` are documented as ISO dates; other spellings Django's DateField
    would parse, and an empty value, are a 400 (the schema fuzzer found ``since`` accepting
    them); the console's form, which submits empty fields, still takes an empty one."""
    api = api_for(tenant_a.admin)
    assert api.get("audit-events/", {"since": value}).status_code == status
    assert api.get("audit-events/", {"until": value}).status_code == status
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    assert admin.get("/console/audit/", {"since": "", "until": ""}).status_code == 200


def test_a_requests_operation_is_built_when_first_asked_and_then_shared(rf):
    """Most requests write no audit event: theirs is built on the first ask, once, and every
    event of the request shares it (its cascade counters live on it)."""
    from middleware.audit import start_request_operation
    from tenancy.operation import current_operation, end_operation

    request = rf.get("/console/members/")
    request.request_id = "r-123"
    token = start_request_operation(request)
    try:
        first = current_operation()
        assert first is not None and first.source == "console" and first.request is request
        assert first.request_id == "r-123" and current_operation() is first
    finally:
        end_operation(token)
    assert current_operation() is None


@pytest.mark.parametrize("source", SOURCES)
def test_every_source_the_recorder_writes_can_be_filtered(tenant_a, source):
    """The API and the console filter by every operation source (``scim`` and ``sso`` too)."""
    event = AuditEvent.objects.create(account=tenant_a.account, source=source, action="updated",
                                      target_kind="accounts.account", target_repr=f"by-{source}")
    body = api_for(tenant_a.admin).get("audit-events/", {"source": source})
    assert body.status_code == 200, body.content
    assert event.pk in {r["id"] for r in body.json()["results"]}
    assert {r["source"] for r in body.json()["results"]} == {source}
    page = host_client(tenant_a.host, tenant_a.admin.user).get("/console/audit/", {"source": source})
    assert page.status_code == 200
    assert f'<option value="{source}" selected>' in page.content.decode()
