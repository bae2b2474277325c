"""Reading an export archive that may be hostile: bounded, checked, streamed.

Nothing is extracted to disk. Entry names must be plain file names (no directory, no ``..``,
no drive or absolute path: zip slip is impossible by construction), each once; the total
uncompressed size and each entry's compression ratio are bounded before a byte is inflated
(``ACCOUNT_IMPORT_MAX_BYTES``, ``ACCOUNT_IMPORT_MAX_RATIO``); the files must be exactly those
the manifest lists; rows are read one line at a time (each line bounded), JSON objects with
duplicate keys are refused, and each file's row count and SHA-256 must match the manifest.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from django.conf import settings

from .manifest import ACCOUNT_FILE, FILE_NAME_RE, MANIFEST, ImportRefused, Known, upgrade

MAX_ENTRIES = 200
MAX_LINE = 4 * 1024 * 1024  # one row
MAX_SMALL_FILE = 4 * 1024 * 1024  # manifest.json, account.json
RATIO_FLOOR = 1024 * 1024  # entries smaller than this are not ratio-checked


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """json's object hook: refuse duplicate keys instead of keeping the last one."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ImportRefused(f"duplicate key {key!r} in a JSON object")
        result[key] = value
    return result


def loads(data: bytes | str, where: str) -> Any:
    try:
        return json.loads(data, object_pairs_hook=_object)
    except ImportRefused as exc:
        raise ImportRefused(f"{where}: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise ImportRefused(f"{where}: not valid JSON ({exc})") from None


class ExportArchive:
    """An open export archive whose structure and manifest have been checked."""

    def __init__(self, source: str | IO[bytes], known: Known) -> None:
        try:
            self.zip = zipfile.ZipFile(source)
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise ImportRefused(f"not a zip archive ({exc})") from None
        try:
            self._check_entries()
            self.manifest = upgrade(loads(self._read_small(MANIFEST), MANIFEST), known)
            listed = set(self.manifest["files"])
            present = set(self.names) - {MANIFEST}
            if listed != present:
                extra, missing = sorted(present - listed), sorted(listed - present)
                raise ImportRefused(f"the archive's files do not match its manifest (not listed: "
                                    f"{extra or 'none'}; missing: {missing or 'none'})")
        except BaseException:
            self.zip.close()
            raise

    def close(self) -> None:
        self.zip.close()

    def __enter__(self) -> ExportArchive:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _check_entries(self) -> None:
        infos = self.zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise ImportRefused(f"too many entries ({len(infos)})")
        names = [i.filename for i in infos]
        for name in names:
            if not FILE_NAME_RE.fullmatch(name):
                raise ImportRefused(f"entry {name!r}: only plain file names are allowed (no paths)")
        if len(set(names)) != len(names):
            dupes = sorted({n for n in names if names.count(n) > 1})
            raise ImportRefused(f"duplicate entries {dupes}")
        if MANIFEST not in names:
            raise ImportRefused("no manifest.json: not an account export")
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise ImportRefused(f"entry {info.filename} is encrypted")
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_FLOOR and ratio > settings.ACCOUNT_IMPORT_MAX_RATIO:
                raise ImportRefused(f"entry {info.filename} inflates {ratio:.0f} times (more than "
                                    f"{settings.ACCOUNT_IMPORT_MAX_RATIO}): refused as a zip bomb")
        if total > settings.ACCOUNT_IMPORT_MAX_BYTES:
            raise ImportRefused(f"the archive inflates to {total} bytes, more than "
                                f"ACCOUNT_IMPORT_MAX_BYTES ({settings.ACCOUNT_IMPORT_MAX_BYTES})")
        self.names = names

    def _read_small(self, name: str) -> bytes:
        try:
            with self.zip.open(name) as entry:
                data = entry.read(MAX_SMALL_FILE + 1)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ImportRefused(f"{name}: corrupt ({exc})") from None
        if len(data) > MAX_SMALL_FILE:
            raise ImportRefused(f"{name} is too large")
        return data

    def account_row(self) -> dict[str, Any]:
        """account.json, checked against its manifest entry."""
        data = self._read_small(ACCOUNT_FILE)
        self._check_digest(ACCOUNT_FILE, hashlib.sha256(data).hexdigest())
        row = loads(data, ACCOUNT_FILE)
        if not isinstance(row, dict):
            raise ImportRefused("account.json is not a JSON object")
        return row

    def _check_digest(self, name: str, digest: str) -> None:
        expected = self.manifest["files"][name].get("sha256")
        if expected is not None and expected != digest:
            raise ImportRefused(f"{name}: SHA-256 does not match the manifest (corrupt or altered)")

    def rows(self, name: str) -> Iterator[dict[str, Any]]:
        """The rows of one table file, streamed; refuses (at the end) a count or SHA-256 that
        differs from the manifest, and at once anything that is not the export's layout."""
        digest = hashlib.sha256()
        count = 0
        try:
            with self.zip.open(name) as entry:
                def line() -> bytes:
                    data = entry.readline(MAX_LINE + 1)
                    if len(data) > MAX_LINE:
                        raise ImportRefused(f"{name}: a row longer than {MAX_LINE} bytes")
                    digest.update(data)
                    return data

                if line() != b"[\n":
                    raise ImportRefused(f"{name}: not an export table (must start with '[')")
                more = True  # a row or the end may follow
                while True:
                    data = line()
                    if data == b"]\n":
                        if count and more:
                            raise ImportRefused(f"{name}: a comma after the last row")
                        break
                    if not more:
                        raise ImportRefused(f"{name}: data after row {count} (no comma)")
                    if data.endswith(b",\n"):
                        body, more = data[:-2], True
                    elif data.endswith(b"\n"):
                        body, more = data[:-1], False
                    else:
                        raise ImportRefused(f"{name}: truncated after row {count}")
                    row = loads(body, f"{name} row {count + 1}")
                    if not isinstance(row, dict):
                        raise ImportRefused(f"{name} row {count + 1}: not a JSON object")
                    count += 1
                    yield row
                if entry.read(1):
                    raise ImportRefused(f"{name}: data after the end of the table")
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ImportRefused(f"{name}: corrupt ({exc})") from None
        expected = self.manifest["files"][name]["rows"]
        if count != expected:
            raise ImportRefused(f"{name}: {count} rows, but the manifest says {expected}")
        self._check_digest(name, digest.hexdigest())
