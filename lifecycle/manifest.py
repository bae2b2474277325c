"""The export's manifest: its format version, and the upgrades of older versions.

Version 2 (the version written now)::

    {"format": "smarter.account-export", "version": 2,
     "account_number": "NNNN-NNNN-NNNN", "account_id": 42, "exported_at": "...",
     "schema": {"accounts": "0006_account_closed_at", ...},   # last migration per app
     "omitted": {"accounts.apikey": ["key_hash"], ...},        # secrets left out
     "files": {"workspaces.json": {"model": "workspaces.workspace",
                                   "account_field": "account_id", "columns": [...],
                                   "rows": 12, "sha256": "<hex of the file's bytes>"}, ...}}

Version 1 (the export before; no ``version`` key) held ``{"account_number", "files":
{name: rows}}`` only. :data:`UPGRADES` turns a manifest of version N into N+1; each step is
documented in ``docs/PORTABILITY.md``. A manifest newer than :data:`VERSION` is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

FORMAT = "smarter.account-export"
VERSION = 2
MANIFEST = "manifest.json"
ACCOUNT_FILE = "account.json"
TAGS_FILE = "tags.json"
TAGS_MODEL = "taggit.taggeditem"
FILE_NAME_RE = re.compile(r"[a-z0-9_]{1,100}\.json")


class ImportRefused(Exception):
    """The archive cannot be imported; the message says why. Nothing was written."""


Known = dict[str, tuple[str, str, list[str]]]  # file name -> (model, account column, columns)


def _upgrade_1_to_2(manifest: dict[str, Any], known: Known) -> dict[str, Any]:
    """Version 1 named files only, with their row counts. Each file's model, account column
    and columns are this deployment's for that file name (:func:`lifecycle.export.tables`;
    version 1 named files and left secrets out the same way); there are no checksums, and no
    tags (version 1 did not export them)."""
    files: dict[str, Any] = {}
    for name, rows in (manifest.get("files") or {}).items():
        if name == ACCOUNT_FILE:
            files[name] = {"model": "accounts.account", "account_field": None, "rows": rows}
            continue
        if name not in known:
            raise ImportRefused(f"version 1 export: unknown file {name!r}")
        model, field, columns = known[name]
        files[name] = {"model": model, "account_field": field, "columns": columns, "rows": rows}
    return {"format": FORMAT, "version": 2, "account_number": manifest.get("account_number"),
            "account_id": None, "schema": {}, "omitted": {}, "files": files, "upgraded_from": 1}


UPGRADES: dict[int, Callable[[dict[str, Any], Known], dict[str, Any]]] = {
    1: _upgrade_1_to_2,
}


def upgrade(manifest: Any, known: Known) -> dict[str, Any]:
    """The manifest in the current version (``known``: file name -> (model label, account
    column, columns) of this deployment's export). ImportRefused for a newer, foreign or broken one."""
    if not isinstance(manifest, dict):
        raise ImportRefused("manifest.json is not a JSON object")
    version = manifest.get("version", 1)
    if "version" in manifest and manifest.get("format") != FORMAT:
        raise ImportRefused(f"manifest.json: not a {FORMAT} archive")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ImportRefused(f"manifest.json: bad version {version!r}")
    if version > VERSION:
        raise ImportRefused(
            f"export format version {version} is newer than this deployment reads ({VERSION}): "
            "upgrade this deployment first")
    while version < VERSION:
        manifest = UPGRADES[version](manifest, known)
        version = manifest["version"]
    _check_shape(manifest)
    return manifest


def _check_shape(manifest: dict[str, Any]) -> None:
    files = manifest.get("files")
    if not isinstance(files, dict) or ACCOUNT_FILE not in files:
        raise ImportRefused("manifest.json: no files, or no account.json")
    for name, entry in files.items():
        if not isinstance(name, str) or not FILE_NAME_RE.fullmatch(name):
            raise ImportRefused(f"manifest.json: file name {name!r} is not allowed")
        if not isinstance(entry, dict):
            raise ImportRefused(f"manifest.json: entry of {name} is not an object")
        rows = entry.get("rows")
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
            raise ImportRefused(f"manifest.json: {name}: bad row count {rows!r}")
        digest = entry.get("sha256")
        if manifest.get("upgraded_from") is None and (
                not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest)):
            raise ImportRefused(f"manifest.json: {name}: no SHA-256")
        columns = entry.get("columns")
        if columns is not None and (not isinstance(columns, list)
                                    or not all(isinstance(c, str) for c in columns)):
            raise ImportRefused(f"manifest.json: {name}: bad column list")
