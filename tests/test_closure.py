"""Account closure: typed confirmation + password, 404/401 at once, purge after the retention
period of every row of the account (every table with an account column), restore before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import (
    Account,
    AccountContact,
    ApiKey,
    DailyActiveMember,
    DailyUsage,
    HandoffToken,
    Invitation,
)
from api.models import IdempotentRequest
from audit.models import AuditEvent
from identity.scim.models import ScimToken, ScimUser
from lifecycle.closure import account_columns
from lifecycle.models import DataExport
from tests.conftest import PASSWORD, host_client
from tests.support.api_support import ApiClient, make_key
from tests.support.domain_support import verified_domain
from tests.support.sso_support import seed_sso_rows
from workspaces.models import Workspace

User = get_user_model()


def close_via_console(tenant, confirm=None, password=PASSWORD):
    client = host_client(tenant.host, tenant.admin.user)
    return client.post("/console/close/", {
        "confirm": tenant.account.account_number if confirm is None else confirm, "password": password,
    })


def _seed(tenant, tag):
    Workspace.objects.create(user_profile=tenant.admin, name=f"{tag}-ws")
    Workspace.objects.create(user_profile=tenant.member, name=f"{tag}-ws2")
    AccountContact.objects.create(account=tenant.account, email=f"extra@{tag}.test")
    _, raw = make_key(tenant.admin)
    DataExport.objects.create(account=tenant.account, requested_by=tenant.admin)
    Invitation.issue(tenant.account, f"invitee@{tag}.test", "member", tenant.admin)
    HandoffToken.issue(tenant.admin.user, tenant.account, tenant.host)
    verified_domain(tenant.admin, f"app.{tag}-closure.test")  # with its hostname claim
    today = timezone.now().date()
    DailyUsage.objects.create(account=tenant.account, day=today, requests=3, api_calls=1)
    DailyActiveMember.objects.create(account=tenant.account, day=today, member_id=tenant.admin.pk)
    ScimToken.create(tenant.account, f"{tag}-idp", tenant.admin)
    ScimUser.objects.create(user_profile=tenant.member, user_name=f"{tag}-scim")
    IdempotentRequest.objects.create(account=tenant.account, key=f"{tag}-retry", fingerprint="0" * 64,
                                     status=201, body={"id": 1})
    seed_sso_rows(tenant.account, tag)
    return raw


def test_wrong_confirmation_or_password_closes_nothing(tenant_a):
    response = close_via_console(tenant_a, confirm="0000-0000-0000")
    assert response.status_code == 200 and "not the number of this account" in response.content.decode()
    response = close_via_console(tenant_a, password="wrong-password")
    assert response.status_code == 200 and "password is not correct" in response.content.decode()
    tenant_a.account.refresh_from_db()
    assert tenant_a.account.is_active and tenant_a.account.closed_at is None
    member = host_client(tenant_a.host, tenant_a.member.user)
    assert member.post("/console/close/", {"confirm": tenant_a.account.account_number,
                                           "password": PASSWORD}).status_code == 403


def test_closing_takes_effect_at_once(tenant_a, tenant_b):
    raw = _seed(tenant_a, "alpha")
    api = ApiClient(tenant_a.host, raw)
    assert api.get("workspaces/").status_code == 200
    response = close_via_console(tenant_a)
    assert response.status_code == 200 and "is closed" in response.content.decode()
    account = Account.objects.get(pk=tenant_a.account.pk)
    assert not account.is_active and account.closed_at is not None
    assert host_client(tenant_a.host).get("/").status_code == 404
    assert host_client(tenant_a.host, tenant_a.admin.user).get("/console/").status_code == 404
    assert api.get("workspaces/").status_code in (401, 404)
    assert host_client(tenant_b.host).get("/").status_code == 200
    [event] = AuditEvent.objects.filter(account=account, action="closed")
    assert event.actor_username == "alpha-admin" and event.changes["is_active"] == [True, False]


def test_api_key_of_a_closed_account_is_refused_on_the_api_host(tenant_a, settings):
    """Off its own host a key is refused anyway; a closed account's key never works."""
    raw = _seed(tenant_a, "alpha")
    close_via_console(tenant_a)
    api_host = f"{settings.ENVIRONMENT}.api.{settings.ROOT_DOMAIN}"
    response = ApiClient(api_host, raw).get("workspaces/")
    assert response.status_code == 401


def test_the_default_account_can_never_be_closed(platform):
    client = host_client("localhost", platform.admin.user)
    response = client.post("/console/close/", {"confirm": platform.account.account_number,
                                               "password": PASSWORD})
    assert response.status_code == 200 and "can never be closed" in response.content.decode()
    assert Account.objects.get(pk=platform.account.pk).is_active
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=platform.account.pk).update(is_active=False, closed_at=timezone.now())


def test_a_closed_account_cannot_be_active(tenant_a):
    with pytest.raises(IntegrityError), transaction.atomic():
        Account.objects.filter(pk=tenant_a.account.pk).update(closed_at=timezone.now())


def _rows_per_account_column() -> dict[tuple[str, str], dict[int, int]]:
    """For every model with a foreign key to Account: rows per account id."""
    from django.db.models import Count

    out = {}
    for model, field in account_columns():
        counts = model._base_manager.values(field).annotate(n=Count("pk")).values_list(field, "n")
        out[(model._meta.label, field)] = dict(counts)
    return out


def _tables_with_account_id_column() -> list[str]:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        describe = connection.introspection.get_table_description
        return [t for t in tables if "account_id" in {c.name for c in describe(cursor, t)}]


def test_purge_after_the_retention_period_removes_every_row_of_the_account(
    tenant_a, tenant_b, platform, monkeypatch, settings
):
    settings.ACCOUNT_CLOSURE_RETENTION_DAYS = 30
    _seed(tenant_a, "alpha")
    _seed(tenant_b, "bravo")
    a_id, a_number = tenant_a.account.pk, tenant_a.account.account_number
    close_via_console(tenant_a)
    before = _rows_per_account_column()
    assert len(before) >= 6  # profiles, contacts, workspaces, keys, events, exports ...
    assert all(before[k].get(a_id) for k in before), (
        "_seed() must fill every table with an account column (add rows of new models)")
    others_before = {k: {acc: n for acc, n in v.items() if acc not in (a_id, None)}
                     for k, v in before.items()}

    call_command("run_lifecycle")  # day 0: nothing is due
    assert Account.objects.filter(pk=a_id).exists()

    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=31))
    call_command("run_lifecycle")

    assert not Account.objects.filter(pk=a_id).exists()
    after = _rows_per_account_column()
    for key, counts in after.items():
        assert a_id not in counts, f"{key} still has rows of the purged account"
    # Nothing of other accounts went (the audit log gained the platform's purge event only).
    others_after = {k: {acc: n for acc, n in v.items() if acc not in (a_id, None)}
                    for k, v in after.items()}
    assert others_after == others_before
    for table in _tables_with_account_id_column():
        with connection.cursor() as cursor:
            cursor.execute(f'SELECT COUNT(*) FROM "{table}" WHERE account_id = %s', [a_id])  # noqa: S608
            assert cursor.fetchone()[0] == 0, table
    assert not User.objects.filter(username__in=["alpha-admin", "alpha-member"]).exists()
    assert User.objects.filter(username__in=["bravo-admin", "bravo-member"]).count() == 2
    event = AuditEvent.objects.get(action="account.purged", target_id=str(a_id))
    assert event.account_id is None and event.target_repr == a_number
    assert event.changes["deleted"]["workspaces.Workspace"] == 2
    assert host_client(tenant_b.host).get("/").status_code == 200


def test_a_user_in_another_account_survives_the_purge(tenant_a, tenant_b, monkeypatch):
    from accounts.provisioning import add_member

    add_member(tenant_b.account, "alpha-member")
    close_via_console(tenant_a)
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=31))
    call_command("run_lifecycle")
    assert not Account.objects.filter(pk=tenant_a.account.pk).exists()
    assert User.objects.filter(username="alpha-member").exists()
    assert not User.objects.filter(username="alpha-admin").exists()


def test_restore_before_the_purge_keeps_everything(tenant_a, monkeypatch, capsys):
    _seed(tenant_a, "alpha")
    close_via_console(tenant_a)
    call_command("restore_account", tenant_a.account.account_number)
    assert "restored" in capsys.readouterr().out
    account = Account.objects.get(pk=tenant_a.account.pk)
    assert account.is_active and account.closed_at is None
    assert host_client(tenant_a.host).get("/").status_code == 200
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=100))
    call_command("run_lifecycle")
    assert Workspace.objects.filter(account=account).count() == 2
    assert AuditEvent.objects.filter(account=account, action="restored", source="command").count() == 1


def test_restore_command_errors(tenant_a):
    with pytest.raises(CommandError, match="not closed"):
        call_command("restore_account", tenant_a.account.account_number)
    with pytest.raises(CommandError, match="No account"):
        call_command("restore_account", "0000-0000-0001")
    with pytest.raises(CommandError, match="not an account number"):
        call_command("restore_account", "nope")


def test_superuser_restores_in_the_admin_and_account_admins_cannot(tenant_a, platform):
    close_via_console(tenant_a)
    data = {"action": "restore_accounts", "_selected_action": [tenant_a.account.pk]}
    superuser = host_client("localhost", platform.admin.user)
    response = superuser.post("/admin/accounts/account/", data)
    assert response.status_code == 302
    account = Account.objects.get(pk=tenant_a.account.pk)
    assert account.is_active and account.closed_at is None
    [event] = AuditEvent.objects.filter(account=account, action="restored")
    assert (event.source, event.actor_username) == ("admin", "platform-admin")


def test_purge_task_leaves_an_active_or_not_yet_due_account_alone(tenant_a):
    from lifecycle.tasks import purge_closed_account

    assert purge_closed_account.enqueue(tenant_a.account.pk).return_value == {}
    close_via_console(tenant_a)
    assert purge_closed_account.enqueue(tenant_a.account.pk).return_value == {}
    assert Account.objects.filter(pk=tenant_a.account.pk).exists()


def test_every_account_table_is_known_to_the_purge():
    labels = {m._meta.label for m, _ in account_columns()}
    assert {"accounts.UserProfile", "accounts.AccountContact", "accounts.ApiKey",
            "workspaces.Workspace", "audit.AuditEvent", "lifecycle.DataExport"} <= labels
    assert all(apps.get_model(label) for label in labels)
    assert ApiKey in {m for m, _ in account_columns()}
