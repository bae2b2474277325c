"""Hostile and corrupt export archives are refused with a clear message, by the command with a
non-zero exit, and nothing is written: zip slip names, zip bombs, duplicate entries, keys and
rows, rows of another account, a manifest lying about counts or checksums, a newer format."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from lifecycle.importer import import_account
from lifecycle.manifest import ImportRefused
from tests.support.portability_support import export_bytes, read, rebuild, seed, snapshot


@pytest.fixture
def exported(tenant_a):  # type: ignore[no-untyped-def]
    seed(tenant_a, "alpha")
    return export_bytes(tenant_a.account)


def refused(data: bytes, match: str, tmp_path, **options) -> None:  # type: ignore[no-untyped-def]
    """Both the library and the command refuse ``data`` with ``match``; nothing is written."""
    before = snapshot()
    with pytest.raises(ImportRefused, match=match):
        import_account(io.BytesIO(data), **options)
    assert snapshot() == before
    path = tmp_path / "hostile.zip"
    path.write_bytes(data)
    with pytest.raises(CommandError, match="import refused, nothing written: .*" + match):
        call_command("import_account", str(path), "--new", stdout=io.StringIO())
    assert snapshot() == before


def _rows(data: bytes, name: str) -> list[dict]:
    return read(data)[1][name]


@pytest.mark.parametrize("name", ["../../etc/cron.d/x.json", "/tmp/abs.json", "sub/dir.json",
                                  "..\\win.json", "C:x.json", "evil.py"])
def test_zip_slip_names_are_refused(exported, tmp_path, name):
    refused(rebuild(exported, extra=[(name, b"[\n]\n")]), "only plain file names", tmp_path)


def test_a_zip_bomb_is_refused_before_it_is_inflated(exported, tmp_path):
    bomb = b"[\n" + b" " * (64 * 1024 * 1024) + b"]\n"  # 64 MiB of spaces deflate ~1000 times
    refused(rebuild(exported, files={"workspaces.json": bomb}), "zip bomb", tmp_path)


def test_the_total_uncompressed_size_is_bounded(exported, tmp_path, settings):
    settings.ACCOUNT_IMPORT_MAX_BYTES = 10_000
    refused(exported, "ACCOUNT_IMPORT_MAX_BYTES", tmp_path)


def test_duplicate_entries_are_refused(exported, tmp_path):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate name
        data = rebuild(exported, extra=[("workspaces.json", b"[\n]\n")])
    refused(data, "duplicate entries", tmp_path)


def test_duplicate_primary_keys_are_refused(exported, tmp_path):
    rows = _rows(exported, "workspaces.json")
    twin = {**rows[1], "id": rows[0]["id"]}
    refused(rebuild(exported, files={"workspaces.json": [rows[0], twin]}), "duplicate or unordered key",
            tmp_path)


def test_duplicate_json_keys_are_refused(exported, tmp_path):
    row = json.dumps(_rows(exported, "contacts.json")[0])
    body = ("[\n" + row[:-1] + ', "email": "other@evil.test"}\n]\n').encode()
    refused(rebuild(exported, files={"contacts.json": body},
                    manifest=lambda m: m["files"]["contacts.json"].update(rows=1)),
            "duplicate key 'email'", tmp_path)


def test_rows_claiming_another_account_are_refused(exported, tenant_b, tmp_path):
    rows = _rows(exported, "workspaces.json")
    rows[0]["account_id"] = tenant_b.account.pk
    refused(rebuild(exported, files={"workspaces.json": rows}), "belongs to another account", tmp_path)


def test_a_manifest_lying_about_counts_is_refused(exported, tmp_path):
    def lie(manifest):  # type: ignore[no-untyped-def]
        manifest["files"]["workspaces.json"]["rows"] -= 1

    refused(rebuild(exported, manifest=lie), "2 rows, but the manifest says 1", tmp_path)


def test_a_changed_file_fails_its_checksum(exported, tmp_path):
    source = zipfile.ZipFile(io.BytesIO(exported))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in source.namelist():
            data = source.read(name)
            if name == "contacts.json":
                data = data.replace(b"extra@alpha.test", b"extra@evil0.test")
            archive.writestr(name, data)
    refused(out.getvalue(), "SHA-256 does not match", tmp_path)


def test_a_newer_format_is_refused(exported, tmp_path):
    refused(rebuild(exported, manifest=lambda m: m.update(version=3)),
            "format version 3 is newer than this deployment reads", tmp_path)


def test_a_column_unknown_here_is_refused(exported, tmp_path):
    rows = [{**r, "colour": "red"} for r in _rows(exported, "workspaces.json")]
    data = rebuild(exported, files={"workspaces.json": rows},
                   manifest=lambda m: m["files"]["workspaces.json"]["columns"].append("colour"))
    refused(data, r"columns \['colour'\] are unknown", tmp_path)


@pytest.mark.parametrize("layout, match", [
    ("not json\n", "must start with"),
    ("[\n{0},\n]\n", "a comma after the last row"),
    ("[\n{0}\n{1}\n]\n", "no comma"),
    ("[\n{0},\n", "truncated"),
    ("[\n[1, 2]\n]\n", "not a JSON object"),
])
def test_a_malformed_table_is_refused(exported, tmp_path, layout, match):
    first, second = (json.dumps(r) for r in _rows(exported, "workspaces.json"))
    body = layout.replace("{0}", first).replace("{1}", second).encode()
    refused(rebuild(exported, files={"workspaces.json": body}), match, tmp_path)


def test_not_a_zip_and_no_manifest_are_refused(exported, tmp_path):
    refused(b"PK\x03\x04 garbage", "not a zip archive", tmp_path)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("account.json", "{}")
    refused(out.getvalue(), "no manifest.json", tmp_path)


def test_an_unlisted_or_missing_file_is_refused(exported, tmp_path):
    refused(rebuild(exported, extra=[("stray.json", b"[\n]\n")]), "not listed: \\['stray.json'\\]",
            tmp_path)
    refused(rebuild(exported, manifest=lambda m: m["files"].update(
        {"ghost.json": {"model": "x.y", "rows": 0, "sha256": "0" * 64}})), "missing: \\['ghost.json'\\]",
        tmp_path)


def test_a_failure_while_writing_rolls_everything_back(exported, tmp_path):
    """Rows that pass every archive check but break a database rule half-way (two workspaces
    of one name): the rows already written are rolled back."""
    rows = _rows(exported, "workspaces.json")
    rows[1]["name"] = rows[0]["name"]
    refused(rebuild(exported, files={"workspaces.json": rows}), "database refused", tmp_path)


def test_a_key_naming_no_row_of_the_export_is_refused(exported, tmp_path):
    rows = _rows(exported, "workspaces.json")
    rows[0]["user_profile_id"] = 10**9
    refused(rebuild(exported, files={"workspaces.json": rows}), "names no row of the export", tmp_path)


def test_an_invalid_value_is_refused(exported, tmp_path):
    rows = _rows(exported, "workspaces.json")
    rows[0]["name"] = "www"  # reserved: never a workspace name
    refused(rebuild(exported, files={"workspaces.json": rows}), "workspaces.json row 1", tmp_path)


def test_bad_targets_are_refused(exported, tenant_a, platform, tmp_path):
    before = snapshot()
    with pytest.raises(ImportRefused, match="is not empty"):
        import_account(io.BytesIO(exported), into=tenant_a.account.account_number)
    with pytest.raises(ImportRefused, match="default account"):
        import_account(io.BytesIO(exported), into=platform.account.account_number)
    with pytest.raises(ImportRefused, match="is taken"):
        import_account(io.BytesIO(exported), number=tenant_a.account.account_number)
    with pytest.raises(ImportRefused, match="not an account number"):
        import_account(io.BytesIO(exported), number="1234-5678-901\n")
    assert snapshot() == before
    path = tmp_path / "x.zip"
    path.write_bytes(exported)
    number = "1111-2222-3333"
    for args, match in ((["--into", number, "--number", number], "--number goes with --new"),
                        (["--new", "--into", "1111-2222-3333"], "not allowed with"),
                        ([], "one of the arguments")):
        with pytest.raises(CommandError, match=match):
            call_command("import_account", str(path), *args, stdout=io.StringIO())
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_account", str(tmp_path / "missing.zip"), "--new")
    assert snapshot() == before


WEIRD = [[], {}, "x" * 300, -5, 2**70, None, True, "2026-13-45T25:61:00Z", "", 1.5]
FIELDS = [("workspaces.json", f) for f in ("name", "annotations", "created_at", "user_profile_id",
                                           "is_public", "version", "description")]
FIELDS += [("audit_events.json", f) for f in ("target_id", "actor_user_id", "changes", "created_at",
                                              "client_ip", "target_kind", "actor_api_key_id")]
FIELDS += [("members.json", f) for f in ("user__username", "user__email", "role", "user_id")]
FIELDS += [("account.json", f) for f in ("company_name", "currency", "require_mfa")]


def test_wrong_values_are_refused_or_imported_never_a_crash(exported, tmp_path):
    """A sample of (field, wrong value) pairs: each import is refused (nothing written) or
    succeeds; no other exception escapes (the command would print a traceback)."""
    import random

    pairs = random.Random(27).sample([(f, v) for f in FIELDS for v in WEIRD], 36)
    outcomes = set()
    for (name, field), value in pairs:
        if name == "account.json":
            row = {**read(exported)[1][name], field: value}
            data = rebuild(exported, files={name: json.dumps(row).encode()})
        else:
            rows = _rows(exported, name)
            rows[0][field] = value
            data = rebuild(exported, files={name: rows})
        before = snapshot()
        try:
            import_account(io.BytesIO(data))
        except ImportRefused:
            assert snapshot() == before, (name, field, value)
            outcomes.add("refused")
        else:
            outcomes.add("imported")
    assert outcomes == {"refused", "imported"}
