"""Data export: a task writes a zip of the account's tables, mails a 24 h link that works on
the tenant's host for its admins only; the zip matches the database row for row."""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import AccountContact
from audit.models import AuditEvent
from lifecycle.export import ExportEncoder, table_rows, tables
from lifecycle.models import DataExport
from lifecycle.tasks import delete_expired_exports
from tests.conftest import host_client
from tests.support.api_support import api_for, make_key
from workspaces.models import Workspace

LINK_RE = re.compile(r"https?://[^\s\"<]+/console/exports/(\d+)/download/(?=[\s\"<])")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _seed(tenant, tag):
    Workspace.objects.create(user_profile=tenant.admin, name=f"{tag}-ws")
    Workspace.objects.create(user_profile=tenant.member, name=f"{tag}-ws2")
    AccountContact.objects.create(account=tenant.account, email=f"extra@{tag}.test")
    make_key(tenant.admin, name=f"{tag}-key")


def request_via_console(tenant):
    client = host_client(tenant.host, tenant.admin.user)
    response = client.post("/console/exports/")
    assert response.status_code == 302
    [message] = [m for m in mail.outbox if tenant.admin.user.email in m.to]
    link = LINK_RE.search(message.body).group(0)
    return client, link, message


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.status_code
    assert response["Content-Disposition"].startswith("attachment;")
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_export_matches_the_database_row_for_row_and_holds_nothing_else(tenant_a, tenant_b):
    _seed(tenant_a, "alpha")
    _seed(tenant_b, "zqbravo")
    client, link, message = request_via_console(tenant_a)
    assert link.startswith(f"http://{tenant_a.host}/")
    assert message.alternatives and link.replace("&", "&amp;") in message.alternatives[0][0]
    archive = _zip(client.get(link.split(tenant_a.host, 1)[1]))
    names = set(archive.namelist())
    assert {"account.json", "members.json", "contacts.json", "workspaces.json", "api_keys.json",
            "audit_events.json", "manifest.json"} <= names
    for name, (model, field) in tables().items():
        exported = json.loads(archive.read(name))
        expected = json.loads(json.dumps(list(table_rows(model, field, tenant_a.account.pk)),
                                         cls=ExportEncoder))
        if name == "audit_events.json":  # the download itself is logged after the zip was made
            expected = [e for e in expected if e["action"] != "export.downloaded"]
        if name == "lifecycle_dataexport.json":  # written while this export was still pending
            expected = [{**e, "status": "pending", "file_name": "", "size": 0, "finished_at": None,
                         "expires_at": None} for e in expected]
        assert exported == expected, name
        assert all(row[field + "_id"] == tenant_a.account.pk for row in exported), name
    members = json.loads(archive.read("members.json"))
    assert {m["user__username"] for m in members} == {"alpha-admin", "alpha-member"}
    assert len(json.loads(archive.read("workspaces.json"))) == 2
    keys = json.loads(archive.read("api_keys.json"))
    assert keys and all("key_hash" not in k for k in keys)
    account = json.loads(archive.read("account.json"))
    assert account["account_number"] == tenant_a.account.account_number
    everything = b"".join(archive.read(n) for n in names).decode()
    assert "zqbravo" not in everything and tenant_b.account.account_number not in everything
    assert "pbkdf2" not in everything and "md5$" not in everything  # no password hashes


def test_the_mailed_link_carries_no_secret(tenant_a):
    """Issue 22: routers and access logs keep query strings, so the link holds nothing but the
    export's path on the account's host; the admin's session there is what opens it."""
    _, link, message = request_via_console(tenant_a)
    export = DataExport.objects.get(account=tenant_a.account)
    assert link == f"http://{tenant_a.host}/console/exports/{export.pk}/download/"
    assert "?" not in link and "token" not in message.body.lower()
    assert "token" not in message.alternatives[0][0].lower()
    assert not any("token" in f.name for f in DataExport._meta.get_fields())


def test_download_link_is_for_this_accounts_admins_on_its_host_only(tenant_a, tenant_b):
    _, link, _ = request_via_console(tenant_a)
    path = link.split(tenant_a.host, 1)[1]
    anonymous = host_client(tenant_a.host).get(path)
    assert anonymous.status_code == 302  # to the sign-in page, and back here after it
    assert anonymous["Location"].startswith("/login/?next=/console/exports/")
    assert host_client(tenant_a.host, tenant_a.member.user).get(path).status_code == 403
    assert host_client(tenant_a.host, tenant_b.admin.user).get(path).status_code == 302
    assert host_client(tenant_b.host, tenant_b.admin.user).get(path).status_code == 404
    admin = host_client(tenant_a.host, tenant_a.admin.user)
    assert admin.get(path).status_code == 200
    assert AuditEvent.objects.filter(account=tenant_a.account, action="export.downloaded").count() == 1


def test_link_expires_after_24_hours_and_the_cleanup_deletes_the_file(tenant_a, monkeypatch):
    admin, link, _ = request_via_console(tenant_a)
    export = DataExport.objects.get(account=tenant_a.account)
    assert export.expires_at - export.finished_at == timedelta(hours=24)
    assert default_storage.exists(export.file_name)
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(hours=24, minutes=1))
    path = link.split(tenant_a.host, 1)[1]
    assert admin.get(path).status_code == 410
    assert delete_expired_exports.enqueue().return_value == 1
    assert not default_storage.exists(export.file_name)
    assert DataExport.objects.get(pk=export.pk).status == DataExport.EXPIRED
    assert admin.get(path).status_code == 410


def test_the_storage_is_not_served(tenant_a):
    request_via_console(tenant_a)
    export = DataExport.objects.get(account=tenant_a.account)
    name = export.file_name
    for path in (f"/media/{name}", f"/{name}", f"/static/../media/{name}"):
        assert host_client(tenant_a.host, tenant_a.admin.user).get(path).status_code == 404


def test_console_lists_exports_and_members_cannot_request(tenant_a):
    request_via_console(tenant_a)
    export = DataExport.objects.get(account=tenant_a.account)
    page = host_client(tenant_a.host, tenant_a.admin.user).get("/console/exports/").content.decode()
    assert "ready" in page and "alpha-admin" in page
    assert f'href="/console/exports/{export.pk}/download/" download>Download</a>' in page
    assert host_client(tenant_a.host, tenant_a.member.user).post("/console/exports/").status_code == 403
    event = AuditEvent.objects.get(account=tenant_a.account, action="export.requested")
    assert (event.actor_username, event.source) == ("alpha-admin", "console")


def test_api_requests_an_export_and_mails_the_keys_owner(tenant_a):
    api = api_for(tenant_a.admin)
    response = api.post("exports/")
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "ready" and body["requested_by"] == "alpha-admin"
    assert api.get(f"exports/{body['id']}/").json()["id"] == body["id"]
    assert api.get("exports/").json()["count"] == 1
    assert "token" not in json.dumps(api.get("exports/").json())
    [message] = mail.outbox
    assert message.to == ["admin@alpha.test"] and LINK_RE.search(message.body)
    assert api_for(tenant_a.member).post("exports/").status_code == 403


def test_an_admin_without_email_is_told_why(tenant_a):
    user = tenant_a.admin.user
    user.email = ""
    user.save()
    client = host_client(tenant_a.host, user)
    response = client.post("/console/exports/", follow=True)
    assert "no email address" in response.content.decode()
    assert not DataExport.objects.exists()


def test_one_export_at_a_time(tenant_a):
    from tests.support.api_support import assert_error

    DataExport.objects.create(account=tenant_a.account, requested_by=tenant_a.admin)
    assert_error(api_for(tenant_a.admin).post("exports/"), 409, "conflict")
    response = host_client(tenant_a.host, tenant_a.admin.user).post("/console/exports/", follow=True)
    assert "already being prepared" in response.content.decode()
    assert DataExport.objects.filter(account=tenant_a.account).count() == 1
