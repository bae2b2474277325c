"""Tenant portability (lifecycle/importer.py): an account's export imported as a new account
(clone), into an empty one (restore) and on another deployment (move), content identical after
key remapping; hostile or corrupt archives refused with nothing written."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

from django.contrib.auth.models import User
from django.core import mail
from django.core.management import call_command

from accounts.models import Account, ApiKey, UserProfile
from audit.models import AuditEvent
from domains.models import Domain
from lifecycle.export import tables
from lifecycle.importer import import_account
from routerdomains.provisioning import workspace_wildcard
from tenancy.distribution import DISTRIBUTED, plan, tenant_owned_models
from tenancy.hosts import tenant_host
from tenancy.registry import registry
from tests.conftest import host_client
from tests.support.portability_support import GONE_SECRETS, as_imported, canonical, export_bytes, read, seed
from workspaces.models import Workspace


def test_the_export_covers_exactly_the_distribution_checks_tenant_tables(db):
    result = plan()
    owned = {m for m, role in result.roles.items()  # distributed, or declared a reference table
             if role == DISTRIBUTED or getattr(m, "distribution_reference_reason", "")}
    exported = {model for model, _ in tables().values()}
    assert exported == owned == set(tenant_owned_models())
    assert len(exported) == len(tables())  # one file per table


ROUTER = "routerdomains_routerdomain.json"
#: Tables of deployment state (the router's records, the answers kept for API retries):
#: exported for the record, never imported, so a copy has its own.
DEPLOYMENT_STATE = {f"{model._meta.db_table}.json" for model, entry in registry.items()
                    if entry.portability.deployment_state}


def assert_same(got: dict, want: dict) -> None:
    """Exports' contents equal; otherwise the message names each table that differs, both sides."""
    assert got == want, {name: {"got": got.get(name), "want": want.get(name)}
                         for name in sorted(set(got) | set(want)) if got.get(name) != want.get(name)}


def content(data: bytes) -> dict:
    """``canonical`` of an export but the deployment's state (the router's records name the
    account's hosts; retries are answered by the deployment that answered them first)."""
    return {name: rows for name, rows in canonical(data).items() if name not in DEPLOYMENT_STATE}


def test_clone_round_trip_is_identical_after_key_remapping(tenant_a, tenant_b):
    seed(tenant_a, "alpha")
    seed(tenant_b, "zqbravo")
    original = export_bytes(tenant_a.account)
    manifest, files = read(original)
    assert manifest["version"] == 2 and manifest["format"] == "smarter.account-export"
    assert all(files[n] != [] for n in manifest["files"]), "every table seeded"

    from accounts.caching import active_memberships

    assert len(active_memberships(tenant_a.admin.user)) == 1  # cached before the import
    report = import_account(io.BytesIO(original))
    clone = report.account
    # the matched admin's cached memberships were invalidated: the copy's console opens
    assert len(active_memberships(tenant_a.admin.user)) == 2
    assert host_client(tenant_host(clone.account_number), tenant_a.admin.user).get(
        "/console/").status_code == 200
    assert clone.pk != tenant_a.account.pk and clone.account_number != tenant_a.account.account_number
    assert clone.company_name == tenant_a.account.company_name
    assert sorted(report.users_matched) == ["admin@alpha.test", "member@alpha.test"]
    assert report.users_created == []
    lines = "\n".join(report.lines())
    assert "not recreated: 1 rows of accounts.apikey: its key_hash is a secret" in lines
    assert "hostname is held by another account" in lines
    assert "two-factor" in lines

    copy = export_bytes(clone)
    gone = GONE_SECRETS | {"domains.domain", "domains.hostnameclaim"}
    assert_same(content(copy), as_imported(content(original), gone))
    # the router's records are the copy's own hosts, never the original's
    assert {r["hostname"] for r in read(copy)[1][ROUTER]} == {
        workspace_wildcard(clone.account_number)}
    assert "it describes this deployment" in lines
    # the copy of the copy is the copy, table for table
    again = import_account(io.BytesIO(copy)).account
    assert_same(content(export_bytes(again)), content(copy))
    # the original is untouched, the copy's members are the same people
    assert UserProfile.objects.filter(account=clone, user=tenant_a.admin.user, role="admin").exists()
    assert Workspace.objects.get(account=clone, name="alpha-home").tags.names().count() == 2
    assert AuditEvent.objects.filter(account=None, action="account.imported",
                                     target_id=str(clone.pk)).count() == 1


def test_timestamps_survive_a_round_trip_to_the_microsecond(tenant_a, tenant_b):
    """Django's JSON keeps milliseconds only, and writes none when they are zero: a row made
    at ``.000123`` s came back at ``.000000``, and its re-export read ``…05Z`` instead of
    ``…05.000Z`` (the round-trip tests above failed when a row fell on such a time)."""
    seed(tenant_a, "alpha")
    stamp = datetime(2026, 1, 2, 3, 4, 5, 123, tzinfo=UTC)
    Workspace.objects.filter(account=tenant_a.account, name="alpha-home").update(created_at=stamp)
    original = export_bytes(tenant_a.account)
    clone = import_account(io.BytesIO(original)).account
    assert Workspace.objects.get(account=clone, name="alpha-home").created_at == stamp
    assert_same(content(export_bytes(clone)), as_imported(content(original), GONE_SECRETS
                                                          | {"domains.domain", "domains.hostnameclaim"}))


def test_restore_into_a_purged_account_keeps_its_number_and_content(tenant_a):
    from lifecycle.closure import close_account, purge_account

    seed(tenant_a, "alpha")
    number = tenant_a.account.account_number
    original = export_bytes(tenant_a.account)
    close_account(tenant_a.account)
    purge_account(tenant_a.account.pk)
    assert not Account.objects.filter(account_number=number).exists()
    out = io.StringIO()
    call_command("import_account", _file(original), "--into", number, "--invite", stdout=out)
    restored = Account.objects.get(account_number=number)
    assert restored.is_active and restored.closed_at is None
    gone = GONE_SECRETS
    assert_same(content(export_bytes(restored)), as_imported(content(original), gone))
    # the purge deleted the users: they are created again without a password, and mailed
    created = User.objects.filter(user_profile__account=restored)
    assert created.count() == 2 and not any(u.has_usable_password() for u in created)
    assert "mailed a link: 2" in out.getvalue()
    links = [m for m in mail.outbox if "/accounts/password/reset/key/" in m.body]
    assert {m.to[0] for m in links} == {"admin@alpha.test", "member@alpha.test"}
    assert all(restored.account_number in m.body for m in links)
    assert Domain.objects.get(account=restored).hostname == "app.alpha-corp.test"


def _file(data: bytes) -> str:
    import tempfile

    handle = tempfile.NamedTemporaryFile(suffix=".zip", delete=False)  # noqa: SIM115
    handle.write(data)
    handle.close()
    return handle.name


def test_number_given_and_users_created_when_no_verified_email_matches(tenant_a):
    from allauth.account.models import EmailAddress

    seed(tenant_a, "alpha")
    EmailAddress.objects.filter(email="member@alpha.test").update(verified=False)
    report = import_account(io.BytesIO(export_bytes(tenant_a.account)), number="1234-5678-9012")
    assert report.account.account_number == "1234-5678-9012"
    assert report.users_matched == ["admin@alpha.test"]
    assert report.users_created == ["member@alpha.test"]
    created = UserProfile.objects.get(account=report.account, role="member").user
    assert created != tenant_a.member.user and not created.has_usable_password()
    assert created.username.startswith("alpha-member-") and created.email == "member@alpha.test"
    assert not [m for m in mail.outbox if "/password/reset/key/" in m.body]  # no --invite
    assert not ApiKey.objects.filter(account=report.account).exists()


def test_a_removed_members_usage_row_is_left_out_not_a_refused_import(tenant_a):
    """A day's active-member row keeps the profile id after the member is removed: the import
    remaps the ids it can and leaves that one row out, saying why."""
    from accounts.models import DailyActiveMember

    seed(tenant_a, "alpha")
    DailyActiveMember.objects.create(account=tenant_a.account, day="2026-11-30", member_id=987654321)
    report = import_account(io.BytesIO(export_bytes(tenant_a.account)))
    copied = DailyActiveMember.objects.filter(account=report.account)
    assert list(copied.values_list("member_id", flat=True)) == [
        UserProfile.objects.get(account=report.account, user=tenant_a.member.user).pk]
    assert "its member was removed before the export" in "\n".join(report.lines())


def test_a_version_1_export_is_upgraded(tenant_a):
    """Version 1 (the export before this issue): no format version, counts only, no tags."""
    seed(tenant_a, "alpha")
    original = export_bytes(tenant_a.account)
    manifest, files = read(original)
    source = zipfile.ZipFile(io.BytesIO(original))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in manifest["files"]:
            if name != "tags.json":
                archive.writestr(name, source.read(name))
        archive.writestr("manifest.json", json.dumps({
            "account_number": manifest["account_number"],
            "files": {n: e["rows"] for n, e in manifest["files"].items() if n != "tags.json"}}))
    report = import_account(io.BytesIO(out.getvalue()))
    assert any("version 1 upgraded" in n for n in report.notes)
    expected = as_imported(content(original), GONE_SECRETS | {"domains.domain", "domains.hostnameclaim"})
    expected["tags.json"] = []  # version 1 had none
    assert_same(content(export_bytes(report.account)), expected)


def test_move_to_another_deployment_is_identical(tenant_a, tmp_path):
    """Export here, import on a second deployment (its own database, a fresh PostgreSQL
    database or SQLite file, migrated by a subprocess), export there: the same content."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.test_deploy import fresh_database_url

    seed(tenant_a, "alpha")
    original = export_bytes(tenant_a.account)
    (tmp_path / "a.zip").write_bytes(original)
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "DATABASE_POOL"}}
    env["DATABASE_URL"] = fresh_database_url(tmp_path, "move")
    root = Path(__file__).resolve().parent.parent

    def manage(*args: str) -> str:
        done = subprocess.run([sys.executable, "manage.py", *args], cwd=root, env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    manage("migrate", "--noinput")
    number = tenant_a.account.account_number
    out = manage("import_account", str(tmp_path / "a.zip"), "--new", "--number", number)
    assert f"imported into account {number}" in out and "created without a password: 2" in out
    manage("export_account", number, str(tmp_path / "b.zip"))
    moved = (tmp_path / "b.zip").read_bytes()
    assert_same(content(moved), as_imported(content(original), GONE_SECRETS))
    assert read(moved)[1]["domains_domain.json"][0]["hostname"] == "app.alpha-corp.test"
