"""Background tasks: each runs inside its tenant's context, in-process and in the DB worker."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import override_settings

from accounts.tasks import send_email
from audit.models import AuditEvent
from tenancy.context import get_current_account_id
from tenancy.operation import current_operation
from tenancy.tasks import tenant_task
from workspaces.models import Workspace

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@tenant_task
def scoped_workspace_names(account_id: int, username: str) -> dict:
    """What a permission-scoped query sees inside the task, and the context it ran in."""
    user = get_user_model().objects.get(username=username)
    names = Workspace.objects.with_read_permission_for(user).values_list("name", flat=True)
    op = current_operation()
    return {"tenant": get_current_account_id(), "names": sorted(names),
            "operation": [op.source, op.label] if op else None}


@tenant_task
def rename_first_workspace(account_id: int) -> int:
    ws = Workspace.objects.filter(account_id=account_id).order_by("pk").first()
    ws.name = "renamed-by-task"
    ws.save()
    return ws.pk


@pytest.fixture
def two_tenants_with_workspaces(tenant_a, tenant_b, platform):
    for t, prefix in ((tenant_a, "alpha"), (tenant_b, "bravo")):
        Workspace.objects.create(user_profile=t.admin, name=f"{prefix}-one")
        Workspace.objects.create(user_profile=t.member, name=f"{prefix}-two")
    return tenant_a, tenant_b, platform


def test_a_scoped_query_inside_a_task_sees_only_its_tenant(two_tenants_with_workspaces):
    a, b, platform = two_tenants_with_workspaces
    # A platform superuser sees every tenant's rows outside a tenant context ...
    everything = Workspace.objects.with_read_permission_for(platform.admin.user)
    assert {"alpha-one", "bravo-one"} <= set(everything.values_list("name", flat=True))
    # ... and only the task's tenant inside the task.
    for tenant, prefix in ((a, "alpha"), (b, "bravo")):
        result = scoped_workspace_names.enqueue(tenant.account.pk, "platform-admin")
        assert result.status == "SUCCESSFUL", result.errors
        assert result.return_value == {
            "tenant": tenant.account.pk, "names": [f"{prefix}-one", f"{prefix}-two"],
            "operation": ["task", "scoped_workspace_names"],
        }
    assert get_current_account_id() is None  # restored after the task


def test_a_task_needs_an_account_id(tenant_a):
    result = scoped_workspace_names.enqueue("not-an-id", "platform-admin")
    assert result.status == "FAILED"
    assert "TypeError" in result.errors[0].exception_class_path


def test_changes_made_by_a_task_are_audited_as_the_task(two_tenants_with_workspaces):
    a, _, _ = two_tenants_with_workspaces
    pk = rename_first_workspace.enqueue(a.account.pk).return_value
    event = AuditEvent.objects.filter(target_kind="workspaces.workspace", target_id=str(pk)).latest("pk")
    assert (event.source, event.source_label, event.account_id) == (
        "task", "rename_first_workspace", a.account.pk)
    assert event.changes == {"name": ["alpha-one", "renamed-by-task"]}


def test_send_email_task_sends_the_built_message(tenant_a):
    result = send_email.enqueue(tenant_a.account.pk, "Subject line", "plain body",
                                ["to@alpha.test"], html_body="<p>html body</p>")
    assert result.status == "SUCCESSFUL" and result.return_value == 1
    [message] = mail.outbox
    assert (message.subject, message.body, message.to) == ("Subject line", "plain body", ["to@alpha.test"])
    assert message.alternatives[0][0] == "<p>html body</p>"
    assert message.from_email == settings.DEFAULT_FROM_EMAIL


@pytest.mark.django_db(transaction=True)
def test_database_backend_worker_runs_the_task_in_its_tenant(two_tenants_with_workspaces):
    from django_tasks_db.models import DBTaskResult

    a, b, _ = two_tenants_with_workspaces
    with override_settings(TASKS=DB_TASKS):
        queued = scoped_workspace_names.enqueue(b.account.pk, "platform-admin")
        assert queued.status == "READY"
        assert DBTaskResult.objects.get(id=queued.id).args_kwargs["args"] == [b.account.pk, "platform-admin"]
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        done = scoped_workspace_names.get_result(queued.id)
    assert done.status == "SUCCESSFUL", done.errors
    assert done.return_value["names"] == ["bravo-one", "bravo-two"]
    assert done.return_value["tenant"] == b.account.pk


@pytest.mark.django_db(transaction=True)
def test_run_lifecycle_prunes_finished_task_results_with_the_database_backend(tenant_a, settings):
    from datetime import timedelta

    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    settings.TASKS_BACKEND = "database"
    with override_settings(TASKS=DB_TASKS):
        old = send_email.enqueue(tenant_a.account.pk, "s", "b", ["x@alpha.test"])
        call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0")
        DBTaskResult.objects.filter(id=old.id).update(finished_at=timezone.now() - timedelta(days=2))
        call_command("run_lifecycle")
        assert not DBTaskResult.objects.filter(id=old.id).exists()
        # run_lifecycle's own tasks wait for the worker
        assert DBTaskResult.objects.filter(status="READY").count() == 2
