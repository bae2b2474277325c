"""The export of one account: a zip of JSON files, one per tenant table, plus a manifest.

Tables are the tenant-owned models of the distribution check
(:func:`tenancy.distribution.tenant_owned_models`), so a model added later is exported (and
imported, see :mod:`lifecycle.importer`) without a change here. Secrets never leave: fields
whose names contain ``hash``, ``password``, ``secret`` or ``token`` are left out (listed in the
manifest's ``omitted``). Members also carry their user's username, email and names; the tags
of every exported row are in ``tags.json``.

Each table file is a JSON array with one row per line (``[``, rows ending in ``,`` but the
last, ``]``), written and read as a stream; ``manifest.json`` (:mod:`lifecycle.manifest`)
holds the format version, the schema, and each file's model, columns, row count and SHA-256.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.migrations.loader import MigrationLoader
from django.utils import timezone
from taggit.managers import TaggableManager

from accounts.models import Account, AccountContact, ApiKey, UserProfile
from audit.models import AuditEvent
from audit.signals import SECRET_MARKERS
from tenancy.distribution import tenant_owned_models

from .manifest import ACCOUNT_FILE, FORMAT, MANIFEST, TAGS_FILE, TAGS_MODEL, VERSION

# Friendly file names of the well-known tables; any other is "<app_label>_<model>.json".
FILE_NAMES: dict[type[models.Model], str] = {
    UserProfile: "members.json", AccountContact: "contacts.json", ApiKey: "api_keys.json",
    AuditEvent: "audit_events.json",
}
MEMBER_USER_FIELDS = ["user__username", "user__email", "user__first_name", "user__last_name"]
CHUNK = 500


def label(model: type[models.Model]) -> str:
    """``app_label.model_name``: how the manifest (and the audit log) name a model."""
    return f"{model._meta.app_label}.{model._meta.model_name}"


def is_secret(field: models.Field) -> bool:
    return any(m in field.name.lower() for m in SECRET_MARKERS)


def exported_fields(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if not is_secret(f)]


def file_name(model: type[models.Model]) -> str:
    if model in FILE_NAMES:
        return FILE_NAMES[model]
    name = model._meta.model_name
    if model._meta.app_label == "workspaces" and name == "workspace":
        return "workspaces.json"
    if name == "invitation":
        return "invitations.json"
    return f"{model._meta.app_label}_{name}.json"


def columns_of(model: type[models.Model]) -> list[str]:
    """The exported columns of ``model`` (members also carry their user's identity)."""
    columns = exported_fields(model)
    return columns + MEMBER_USER_FIELDS if model is UserProfile else columns


def table_rows(model: type[models.Model], field: str, account_id: int) -> Iterator[dict[str, Any]]:
    """The account's rows of one table, in primary-key order, as exported."""
    rows = model._base_manager.filter(**{field: account_id}).order_by("pk").values(*columns_of(model))
    yield from rows.iterator(chunk_size=CHUNK)


def account_attname(model: type[models.Model], field: str) -> str:
    """The column of the account field ``field`` (``account`` -> ``account_id``)."""
    return next(f.attname for f in model._meta.concrete_fields if f.name == field)


def tables() -> dict[str, tuple[type[models.Model], str]]:
    """File name -> (model, account field) of every tenant table."""
    field = settings.TENANCY_TENANT_FIELD
    found: dict[str, tuple[type[models.Model], str]] = {}
    for model in tenant_owned_models():
        name = file_name(model)
        if name in found:  # a friendly name taken by another app's model of the same name
            name = f"{model._meta.app_label}_{model._meta.model_name}.json"
        found[name] = (model, field)
    return found


def tag_fields(model: type[models.Model]) -> list[TaggableManager]:
    """The model's tag managers; their through tables must be generic (content type + id)."""
    found = [f for f in model._meta.get_fields() if isinstance(f, TaggableManager)]
    for f in found:
        through = f.through
        if not {"content_type", "object_id"} <= {x.name for x in through._meta.fields}:
            raise TypeError(f"{model._meta.label}.{f.name}: only generic tag tables are exported")
    return found


def tag_rows(account_id: int) -> Iterator[dict[str, Any]]:
    """Every tag of every exported row: ``{"model", "object_id", "tag"}``, in a stable order."""
    for _, (model, field) in sorted(tables().items(), key=lambda i: label(i[1][0])):
        for manager in tag_fields(model):
            content_type = ContentType.objects.get_for_model(model)
            owned = model._base_manager.filter(**{field: account_id}).values("pk")
            items = (manager.through._base_manager
                     .filter(content_type=content_type, object_id__in=owned)
                     .order_by("object_id", "tag__name").values_list("object_id", "tag__name"))
            for object_id, tag in items.iterator(chunk_size=CHUNK):
                yield {"model": label(model), "object_id": object_id, "tag": tag}


def schema() -> dict[str, str]:
    """The last migration of each app (read from the code, not the database)."""
    graph = MigrationLoader(None, ignore_no_migrations=True).graph
    return {app: name for app, name in sorted(graph.leaf_nodes())}


class ExportEncoder(DjangoJSONEncoder):
    """Django's JSON, but datetimes and times to the microsecond (``…T12:00:00.000123Z``).

    Django's encoder keeps milliseconds and drops them when they are zero, so a time of
    ``.000123`` s was written ``.000`` and, imported and exported again, ``…00Z``: a restore
    was not the same data, and about one export in thirty differed from its round trip."""

    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime | datetime.time):
            text = o.isoformat(timespec="microseconds")
            return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text
        return super().default(o)


def _write_rows(archive: zipfile.ZipFile, name: str, rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    digest = hashlib.sha256()
    n = 0
    with archive.open(name, "w", force_zip64=True) as entry:
        def put(data: bytes) -> None:
            digest.update(data)
            entry.write(data)

        put(b"[")
        for row in rows:
            put((b",\n" if n else b"\n") + json.dumps(row, cls=ExportEncoder).encode())
            n += 1
        put(b"\n]\n")
    return {"rows": n, "sha256": digest.hexdigest()}


def write_export(account: Account, out: IO[bytes]) -> dict[str, int]:
    """Write the zip to ``out`` (streamed: rows are read and written in chunks); returns the
    number of rows per file."""
    files: dict[str, dict[str, Any]] = {}
    omitted: dict[str, list[str]] = {}
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        account_row = Account.objects.filter(pk=account.pk).values(*exported_fields(Account)).get()
        data = json.dumps(account_row, cls=ExportEncoder, indent=1).encode()
        archive.writestr(ACCOUNT_FILE, data)
        files[ACCOUNT_FILE] = {"model": label(Account), "account_field": None,
                               "columns": exported_fields(Account), "rows": 1,
                               "sha256": hashlib.sha256(data).hexdigest()}
        for name, (model, field) in sorted(tables().items()):
            entry = _write_rows(archive, name, table_rows(model, field, account.pk))
            files[name] = {"model": label(model), "account_field": account_attname(model, field),
                           "columns": columns_of(model), **entry}
            secret = [f.name for f in model._meta.concrete_fields if is_secret(f)]
            if secret:
                omitted[label(model)] = secret
        files[TAGS_FILE] = {"model": TAGS_MODEL, "account_field": None,
                            "columns": ["model", "object_id", "tag"],
                            **_write_rows(archive, TAGS_FILE, tag_rows(account.pk))}
        archive.writestr(MANIFEST, json.dumps({
            "format": FORMAT, "version": VERSION, "account_number": account.account_number,
            "account_id": account.pk, "exported_at": timezone.now().isoformat(),
            "schema": schema(), "omitted": omitted, "files": files,
        }, indent=1))
    return {name: entry["rows"] for name, entry in files.items()}
