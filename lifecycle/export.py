"""The export of one account: a zip of JSON files, one per table that carries the account.

Tables are found by introspection (every model with a foreign key to Account), so models
added later (invitations, domains) are exported without a change here. Secrets never leave:
fields whose names contain ``hash``, ``password``, ``secret`` or ``token`` are left out.
Members also carry their user's username, email and names.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from accounts.models import Account, AccountContact, ApiKey, UserProfile
from audit.models import AuditEvent
from audit.signals import SECRET_MARKERS

from .closure import account_columns

# Friendly file names of the well-known tables; any other is "<app_label>_<model>.json".
FILE_NAMES: dict[type[models.Model], str] = {
    UserProfile: "members.json", AccountContact: "contacts.json", ApiKey: "api_keys.json",
    AuditEvent: "audit_events.json",
}
MEMBER_USER_FIELDS = ["user__username", "user__email", "user__first_name", "user__last_name"]


def exported_fields(model: type[models.Model]) -> list[str]:
    return [
        f.attname for f in model._meta.concrete_fields
        if not any(m in f.name.lower() for m in SECRET_MARKERS)
    ]


def file_name(model: type[models.Model]) -> str:
    if model in FILE_NAMES:
        return FILE_NAMES[model]
    name = model._meta.model_name
    if model._meta.app_label == "workspaces" and name == "workspace":
        return "workspaces.json"
    if name == "invitation":
        return "invitations.json"
    return f"{model._meta.app_label}_{name}.json"


def table_rows(model: type[models.Model], field: str, account_id: int) -> Iterator[dict[str, Any]]:
    """The account's rows of one table, in primary-key order, as exported."""
    columns = exported_fields(model)
    if model is UserProfile:
        columns += MEMBER_USER_FIELDS
    rows = model._base_manager.filter(**{field: account_id}).order_by("pk").values(*columns)
    yield from rows.iterator(chunk_size=500)


def tables(account_id: int) -> dict[str, tuple[type[models.Model], str]]:
    """File name -> (model, account field) for every table that carries the account."""
    found = {}
    for model, field in account_columns():
        name = file_name(model)
        if name in found:  # a model with two account columns: one file per column
            name = name.replace(".json", f"_{field}.json")
        found[name] = (model, field)
    return found


def write_export(account: Account, out: IO[bytes]) -> dict[str, int]:
    """Write the zip to ``out``; returns the number of rows per file."""
    counts = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        account_row = Account.objects.filter(pk=account.pk).values(*exported_fields(Account)).get()
        archive.writestr("account.json", json.dumps(account_row, cls=DjangoJSONEncoder, indent=1))
        counts["account.json"] = 1
        for name, (model, field) in sorted(tables(account.pk).items()):
            with archive.open(name, "w") as entry:
                entry.write(b"[")
                n = 0
                for row in table_rows(model, field, account.pk):
                    entry.write((b",\n" if n else b"\n") + json.dumps(row, cls=DjangoJSONEncoder).encode())
                    n += 1
                entry.write(b"\n]\n")
            counts[name] = n
        archive.writestr("manifest.json", json.dumps({
            "account_number": account.account_number, "files": counts,
        }, indent=1))
    return counts
