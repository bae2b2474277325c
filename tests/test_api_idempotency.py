"""``Idempotency-Key`` on the API's creating requests (api.idempotency): a retry gets the first
answer and creates nothing more; the same key with another body is a 422; a retry while the
first request runs is a 409; keys are each account's own."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Invitation
from api.idempotency import STALE_AFTER
from api.models import IdempotentRequest
from lifecycle.models import DataExport
from tests.support.api_support import api_for, assert_error
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db


def post(api: Any, path: str, data: Any, key: str | None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return api.client.post(f"/api/v1/{path}", data=data, content_type="application/json", **headers)


def test_a_retried_invitation_returns_the_first_answer_and_invites_once(tenant_a, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "send_invitation": False}
    api = api_for(tenant_a.admin)
    first = post(api, "invitations/", {"email": "new@alpha.test", "role": "member"}, "inv-1")
    assert first.status_code == 201, first.content
    sent = len(mail.outbox)
    retry = post(api, "invitations/", {"email": "new@alpha.test", "role": "member"}, "inv-1")
    assert (retry.status_code, retry.json()) == (201, first.json())
    assert retry["Idempotent-Replayed"] == "true"
    assert Invitation.objects.filter(account=tenant_a.account, email="new@alpha.test").count() == 1
    assert len(mail.outbox) == sent  # no second mail


def test_a_retried_export_returns_the_first_answer_and_exports_once(tenant_a):
    api = api_for(tenant_a.admin)
    first = post(api, "exports/", {}, "exp-1")
    assert first.status_code == 202, first.content
    retry = post(api, "exports/", {}, "exp-1")
    assert (retry.status_code, retry.json()) == (202, first.json())
    assert DataExport.objects.filter(account=tenant_a.account).count() == 1


def test_without_a_key_each_request_creates(tenant_a):
    api = api_for(tenant_a.admin)
    assert post(api, "workspaces/", {"name": "one"}, None).status_code == 201
    assert post(api, "workspaces/", {"name": "two"}, None).status_code == 201
    assert Workspace.objects.filter(account=tenant_a.account).count() == 2


def test_the_same_key_with_another_body_is_a_422(tenant_a):
    api = api_for(tenant_a.admin)
    assert post(api, "workspaces/", {"name": "one"}, "ws").status_code == 201
    response = post(api, "workspaces/", {"name": "two"}, "ws")
    assert_error(response, 422, "idempotency_key_reused")
    assert not Workspace.objects.filter(account=tenant_a.account, name="two").exists()


def test_a_retry_while_the_first_request_runs_is_a_409(tenant_a):
    api = api_for(tenant_a.admin)
    assert post(api, "workspaces/", {"name": "one"}, "ws").status_code == 201
    # The first request of another key is still running: stored, without an answer yet.
    row = IdempotentRequest.objects.get(account=tenant_a.account, key="ws")
    IdempotentRequest.objects.create(account=tenant_a.account, key="running", fingerprint=row.fingerprint)
    response = post(api, "workspaces/", {"name": "one"}, "running")
    assert_error(response, 409, "idempotency_key_in_use")
    # A first request that died long ago frees its key.
    IdempotentRequest.objects.filter(key="running").update(created_at=timezone.now() - STALE_AFTER * 2)
    Workspace.objects.filter(account=tenant_a.account, name="one").delete()
    assert post(api, "workspaces/", {"name": "one"}, "running").status_code == 201


def test_keys_are_per_account(tenant_a, tenant_b):
    a, b = api_for(tenant_a.admin), api_for(tenant_b.admin)
    assert post(a, "workspaces/", {"name": "same"}, "shared-key").status_code == 201
    response = post(b, "workspaces/", {"name": "same"}, "shared-key")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response
    assert Workspace.objects.filter(name="same").values_list("account", flat=True).distinct().count() == 2


def test_a_refused_request_keeps_no_answer_and_may_be_retried(tenant_a):
    api = api_for(tenant_a.admin)
    assert post(api, "workspaces/", {"name": "Not A Label"}, "fix-me").status_code == 400
    assert not IdempotentRequest.objects.filter(key="fix-me").exists()
    assert post(api, "workspaces/", {"name": "Not A Label"}, "fix-me").status_code == 400


def test_an_answer_is_replayed_for_24_hours_only(tenant_a, settings):
    api = api_for(tenant_a.admin)
    assert post(api, "workspaces/", {"name": "one"}, "old").status_code == 201
    IdempotentRequest.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL + 1))
    Workspace.objects.filter(account=tenant_a.account, name="one").delete()
    response = post(api, "workspaces/", {"name": "one"}, "old")
    assert response.status_code == 201 and "Idempotent-Replayed" not in response


@pytest.mark.parametrize("key", ["", "x" * 256, "caf\u00e9", "two words"])
def test_a_malformed_key_is_a_400(tenant_a, key):
    api = api_for(tenant_a.admin)
    response = post(api, "workspaces/", {"name": "one"}, key)
    assert_error(response, 400)
    assert not Workspace.objects.filter(account=tenant_a.account).exists()


def test_the_schema_declares_the_header_on_every_creating_operation(tenant_a):
    schema = api_for(tenant_a.admin).get("schema/?format=json").json()
    creating = {f"{method.upper()} {path}" for path, item in schema["paths"].items()
                for method, op in item.items()
                if any(p["name"] == "Idempotency-Key" for p in op.get("parameters", []))}
    assert creating == {
        "POST /api/v1/contacts/", "POST /api/v1/users/", "POST /api/v1/users/batch/",
        "POST /api/v1/workspaces/", "POST /api/v1/api-keys/", "POST /api/v1/domains/",
        "POST /api/v1/invitations/", "POST /api/v1/exports/",
    }
