"""Helpers of the portability tests: a richly seeded account, exports as bytes, and an
export's content with every key replaced by the position of the row it names (so two exports
of the same content compare equal whatever keys their databases drew)."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from allauth.account.models import EmailAddress
from django.apps import apps

from accounts.models import AccountContact, ApiKey, DailyActiveMember, DailyUsage, HandoffToken, Invitation
from api.models import IdempotentRequest
from identity.scim.models import ScimToken, ScimUser
from lifecycle.export import write_export
from lifecycle.models import DataExport
from tenancy.portability import declared_generic_references, declared_references
from tests.support.domain_support import verified_domain
from tests.support.sso_support import seed_sso_rows, verify_email_domain
from workspaces.models import Workspace

ACCOUNT_IDENTITY = {"id", "account_number", "is_default_account", "is_active", "closed_at",
                    "created_at", "updated_at"}


def seed(tenant: Any, tag: str) -> None:
    """Rows in every tenant table, tags, foreign keys between tenant tables, audit events."""
    for user in (tenant.admin.user, tenant.member.user):
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    home = Workspace.objects.create(user_profile=tenant.admin, name=f"{tag}-home",
                                    annotations={"k": [1, "x"]}, description="ümlaut\nline")
    other = Workspace.objects.create(user_profile=tenant.member, name=f"{tag}-other")
    home.tags.add("blue", "green")
    other.tags.add("blue")
    tenant.member.tags.add("vip")
    AccountContact.objects.create(account=tenant.account, email=f"extra@{tag}.test", phone="123")
    key, _ = ApiKey.create(tenant.admin, f"{tag}-key")
    key.tags.add("ci")
    domain = verified_domain(tenant.admin, f"app.{tag}-corp.test")
    domain.workspace = home
    domain.save()
    Invitation.issue(tenant.account, f"invitee@{tag}.test", "member", tenant.admin)
    HandoffToken.issue(tenant.admin.user, tenant.account, tenant.host)
    DataExport.objects.create(account=tenant.account, requested_by=tenant.admin,
                              status=DataExport.READY, file_name=f"exports/{tag}.zip", size=3)
    home.description = "changed"
    home.save()  # an "updated" audit event
    DailyUsage.objects.create(account=tenant.account, day="2026-12-01", requests=7, api_calls=2)
    IdempotentRequest.objects.create(account=tenant.account, key=f"{tag}-retry", fingerprint="0" * 64,
                                     status=201, body={"id": 1})
    DailyActiveMember.objects.create(account=tenant.account, day="2026-12-01", member_id=tenant.member.pk)
    ScimToken.create(tenant.account, f"{tag}-idp", tenant.admin)
    ScimUser.objects.create(user_profile=tenant.member, user_name=f"{tag}-scim", external_id="00u1")
    verify_email_domain(tenant.account, f"{tag}-verified.test")
    seed_sso_rows(tenant.account, tag)


def export_bytes(account: Any) -> bytes:
    out = io.BytesIO()
    write_export(account, out)
    return out.getvalue()


def read(data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(manifest, file name -> parsed JSON)."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = json.loads(archive.read("manifest.json"))
    return manifest, {n: json.loads(archive.read(n)) for n in manifest["files"]}


def canonical(data: bytes) -> dict[str, Any]:
    """The export's content with keys replaced by (model, position of the row): account ->
    "ACCOUNT", users -> username, a key naming no exported row -> None."""
    manifest, files = read(data)
    account_id = files["account.json"]["id"]
    position = {e["model"]: {row["id"]: i for i, row in enumerate(files[n])}
                for n, e in manifest["files"].items() if e["account_field"]}
    members = next(n for n, e in manifest["files"].items() if e["model"] == "accounts.userprofile")
    users = {row["user_id"]: row["user__username"] for row in files[members]}

    def ref(label: str, value: Any) -> Any:
        if value is None or value == "":
            return None
        if label == "accounts.account":
            return "ACCOUNT" if value == account_id else None
        if label == "auth.user":
            return users.get(value)
        found = position.get(label, {}).get(int(value) if str(value).isdigit() else value)
        return None if found is None else (label, found)

    result: dict[str, Any] = {"account.json": {k: v for k, v in files["account.json"].items()
                                               if k not in ACCOUNT_IDENTITY}}
    for name, entry in manifest["files"].items():
        if not entry["account_field"]:
            continue
        model = apps.get_model(entry["model"])
        fields = {f.attname: f for f in model._meta.concrete_fields}
        soft = declared_references(model)
        generic = dict((key, kind) for kind, key in declared_generic_references(model))
        rows = []
        for row in files[name]:
            out = {}
            for key, value in row.items():
                f = fields.get(key)
                if f is not None and f.primary_key:
                    value = position[entry["model"]][value]
                elif f is not None and f.is_relation:
                    value = ref(f"{f.related_model._meta.app_label}.{f.related_model._meta.model_name}",
                                value)
                elif key in soft:
                    value = ref(soft[key].lower(), value)
                elif key in generic:
                    value = ref(row[generic[key]], value)
                out[key] = value
            rows.append(out)
        result[name] = rows
    result["tags.json"] = [{**t, "object_id": ref(t["model"], t["object_id"])}
                           for t in files["tags.json"]]
    return result


def as_imported(content: dict[str, Any], gone: set[str]) -> dict[str, Any]:
    """What ``canonical`` of an export should read after an import that did not recreate the
    rows of the model labels ``gone`` (secrets left out; hostnames held here): those tables
    empty, references to their rows None, their tags gone; exports keep no file."""
    def clear(value: Any) -> Any:
        return None if isinstance(value, tuple) and value[0] in gone else value

    result: dict[str, Any] = {"account.json": content["account.json"]}
    for name, rows in content.items():
        if name in ("account.json", "tags.json"):
            continue
        model = next((r for r in rows), None)
        kept = []
        for row in rows:
            row = {k: clear(v) for k, v in row.items()}
            if name == "lifecycle_dataexport.json" and (row["file_name"] or row["status"] == "ready"):
                row = {**row, "file_name": "", "status": "expired"}
            if name == "emaildomains_emaildomain.json":  # proven again by DNS in the new account
                row = {**row, "verified_at": None, "last_check_detail": ""}
            if name == "sso_identityprovider.json":  # its secret was left out: off until re-entered
                row = {**row, "enabled": False}
            kept.append(row)
        result[name] = kept if model is None or not _gone(name, gone) else []
    result["tags.json"] = [t for t in content["tags.json"] if t["model"] not in gone]
    return result


GONE_SECRETS = {"accounts.apikey", "accounts.invitation", "accounts.handofftoken", "scim.scimtoken"}
FILE_MODELS = {"api_keys.json": "accounts.apikey", "invitations.json": "accounts.invitation",
               "accounts_handofftoken.json": "accounts.handofftoken",
               "domains_domain.json": "domains.domain",
               "domains_hostnameclaim.json": "domains.hostnameclaim",
               "scim_scimtoken.json": "scim.scimtoken"}


def _gone(name: str, gone: set[str]) -> bool:
    return FILE_MODELS.get(name) in gone


def rebuild(data: bytes, files: dict[str, Any] | None = None, manifest: Any = None,
            extra: list[tuple[str, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    """A copy of an export with ``files`` replaced (name -> list of rows, or bytes; None drops
    it), their SHA-256 and counts in the manifest made to match, then ``manifest(m)`` applied
    (an attacker who rewrites the manifest too), and ``extra`` raw entries appended."""
    import hashlib

    source = zipfile.ZipFile(io.BytesIO(data))
    content = {n: source.read(n) for n in source.namelist()}
    meta = json.loads(content.pop("manifest.json"))
    for name, value in (files or {}).items():
        if value is None:
            content.pop(name, None)
            meta["files"].pop(name, None)
            continue
        if not isinstance(value, bytes):
            meta["files"][name]["rows"] = len(value)
            value = ("[" + "".join(("\n" if i == 0 else ",\n") + json.dumps(r) for i, r in enumerate(value))
                     + "\n]\n").encode()
        content[name] = value
        meta["files"][name]["sha256"] = hashlib.sha256(value).hexdigest()
    if manifest is not None:
        meta = manifest(meta) or meta
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, value in content.items():
            archive.writestr(name, value)
        archive.writestr("manifest.json", json.dumps(meta))
        for name, value in extra:
            archive.writestr(name, value)
    return out.getvalue()


def snapshot() -> dict[str, int]:
    """Row counts of every table an import writes."""
    from django.contrib.auth import get_user_model
    from taggit.models import Tag, TaggedItem

    from accounts.models import Account
    from lifecycle.export import tables

    counts = {m._meta.label: m._base_manager.count() for m, _ in tables().values()}
    for model in (Account, get_user_model(), Tag, TaggedItem):
        counts[model._meta.label] = model._base_manager.count()
    return counts
