"""Import one account's export: a new account (clone, move) or an empty one (restore).

Generic over the tenant tables, like the export: every file names its model, and every
foreign key is remapped (new primary keys are drawn by the database, in the export's key
order), as are tags (``tags.json``) and the references models declare
(:mod:`tenancy.portability`). Users are matched by *verified* email (allauth); the others are
created without a password. Rows of a table whose required secret was left out of the export
(API keys, invitations, hand-off tokens) are not recreated, and the report says so.

Two passes over the archive, both streamed: the first checks everything the archive can be
wrong about (layout, duplicate keys, rows of another account, counts, SHA-256, unknown
columns) before anything is written; the second writes every row in one transaction, so a
failure at any point leaves no row behind. Rows are inserted in bulk, as fixtures are
(``raw``: the stored timestamps are kept) and without model signals (the audit log stays
quiet); each model's ``portable_imported`` hook then invalidates what caches may hold about
the account. One platform-level audit event (``account.imported``) records the import.
"""

from __future__ import annotations

import secrets
from array import array
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, models, transaction
from django.db.models.functions import Lower
from taggit.models import Tag

from accounts.invitations import send_welcome
from accounts.models import Account, UserProfile
from accounts.models.account import validate_account_number
from audit.models import AuditEvent
from audit.recorder import record, suppressed
from tenancy.context import tenant_context
from tenancy.hosts import tenant_host
from tenancy.portability import (
    SkipRow,
    adjust_row,
    declared_generic_references,
    declared_references,
    deployment_state,
    imported,
)

from .archive import ExportArchive
from .export import MEMBER_USER_FIELDS, account_attname, columns_of, is_secret, label, tables, tag_fields
from .manifest import ACCOUNT_FILE, TAGS_FILE, TAGS_MODEL, ImportRefused, Known

CHUNK = 500
ACCOUNT_KEPT_OUT = {"id", "account_number", "is_default_account", "is_active", "closed_at",
                    "created_at", "updated_at"}
HISTORY = {AuditEvent}  # tables an "empty" account may already have rows in
NEVER_EXPORTED = ("users' passwords and two-factor authenticators (TOTP, recovery codes) are "
                  "never exported: matched users keep theirs, created users have none")


class KeyMap:
    """Old key -> new key of one table: two arrays (16 bytes a row), filled in ascending old
    key order, looked up by bisection."""

    def __init__(self) -> None:
        self.old = array("q")
        self.new = array("q")

    def add(self, old: int, new: int) -> None:
        self.old.append(old)
        self.new.append(new)

    def get(self, old: Any) -> int | None:
        if isinstance(old, bool) or not isinstance(old, int):
            return None
        i = bisect_left(self.old, old)
        return self.new[i] if i < len(self.old) and self.old[i] == old else None


@dataclass
class Report:
    """What an import did, for the operator."""

    account: Account
    created: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    users_matched: list[str] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)
    invited: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"imported into account {self.account.account_number} (id {self.account.pk})"]
        out += [f"  {name}: {n} rows" for name, n in sorted(self.created.items())]
        for name, reasons in sorted(self.skipped.items()):
            out += [f"  not recreated: {n} rows of {name}: {why}" for why, n in sorted(reasons.items())]
        out.append(f"  users matched by verified email: {len(self.users_matched)}; created without "
                   f"a password: {len(self.users_created)}; mailed a link: {len(self.invited)}")
        out += [f"  note: {n}" for n in self.notes]
        return out


@dataclass
class Table:
    """How one file is imported."""

    name: str
    model: type[models.Model]
    account_attname: str
    columns: set[str]
    foreign: dict[str, tuple[type[models.Model], bool]]  # attname -> (target, nullable)
    skip_reason: str = ""

    @property
    def label(self) -> str:
        return label(self.model)


def known_files() -> Known:
    """This deployment's file names -> (model label, account column, columns): what version 1
    named."""
    return {name: (label(model), account_attname(model, f), columns_of(model))
            for name, (model, f) in tables().items()}


def _table(name: str, entry: dict[str, Any]) -> Table:
    try:
        model = apps.get_model(entry.get("model") or "")
    except (LookupError, ValueError):
        raise ImportRefused(f"{name}: unknown model {entry.get('model')!r} (a newer export?)") from None
    owned = {m for m, _ in tables().values()}
    if model not in owned:
        raise ImportRefused(f"{name}: {label(model)} is not a tenant table")
    attnames = {f.attname for f in model._meta.concrete_fields}
    allowed = attnames | (set(MEMBER_USER_FIELDS) if model is UserProfile else set())
    columns = set(entry.get("columns") or columns_of(model))
    unknown = columns - allowed
    if unknown:
        raise ImportRefused(f"{name}: columns {sorted(unknown)} are unknown to this deployment "
                            "(exported by a newer schema)")
    account_attname = entry.get("account_field") or ""
    if account_attname not in attnames or model._meta.get_field(account_attname).related_model is not Account:
        raise ImportRefused(f"{name}: bad account column {account_attname!r}")
    foreign: dict[str, tuple[type[models.Model], bool]] = {}
    skip = ""
    for f in model._meta.concrete_fields:
        if f.is_relation and f.attname != account_attname:
            foreign[f.attname] = (f.related_model, f.null)  # type: ignore[assignment]
        if is_secret(f) and f.attname not in columns and not f.null and not f.has_default():
            skip = f"its {f.name} is a secret the export leaves out"
    if deployment_state(model):
        skip = "it describes this deployment, which records the account's own anew"
    return Table(name, model, account_attname, columns, foreign, skip)


def _order(found: list[Table]) -> list[Table]:
    """Tables after the tables they reference."""
    by_model = {t.model: t for t in found}
    ordered: list[Table] = []

    def needs(table: Table) -> list[type[models.Model]]:
        """Foreign keys and declared references; generic references may name any table."""
        if declared_generic_references(table.model):
            return [m for m in by_model if not declared_generic_references(m)]
        targets = [target for target, _ in table.foreign.values()]
        for target in declared_references(table.model).values():
            try:
                targets.append(apps.get_model(target))
            except LookupError:
                continue
        return targets

    def visit(table: Table, path: tuple[Any, ...]) -> None:
        if table in ordered:
            return
        if table.model in path:
            raise ImportRefused(f"cannot order tables: a cycle through {table.label}")
        for target in needs(table):
            if target in by_model and target is not table.model:
                visit(by_model[target], path + (table.model,))
        ordered.append(table)

    for table in sorted(found, key=lambda t: t.name):
        visit(table, ())
    return ordered


def _valid_account(account: Account) -> None:
    try:
        account.full_clean(exclude=["account_number"])
    except ValidationError as exc:
        raise ImportRefused(f"account.json: {exc.messages}") from None
    except (TypeError, ValueError) as exc:
        raise ImportRefused(f"account.json: {exc}") from None


def _verified_users(emails: set[str]) -> dict[str, list[int]]:
    """Lower-cased address -> the users who verified it, oldest address first: one query for
    a chunk of members (compared in lower case, as allauth stores and looks up addresses)."""
    from allauth.account.models import EmailAddress

    if not emails:
        return {}
    found: dict[str, list[int]] = defaultdict(list)
    addresses = (EmailAddress.objects.annotate(lower_email=Lower("email"))
                 .filter(lower_email__in=emails, verified=True).order_by("pk")
                 .values_list("lower_email", "user_id"))
    for email, user_id in addresses:
        found[email].append(user_id)
    return found


def _chunks(rows: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Importer:
    """One import; :func:`import_account` is the entry point."""

    def __init__(self, archive: ExportArchive) -> None:
        self.archive = archive
        self.manifest = archive.manifest
        files = self.manifest["files"]
        self.tables = _order([_table(n, e) for n, e in files.items() if n not in (ACCOUNT_FILE, TAGS_FILE)])
        if TAGS_FILE in files and files[TAGS_FILE].get("model") != TAGS_MODEL:
            raise ImportRefused(f"{TAGS_FILE}: not a tags file")
        self.account_row = archive.account_row()
        self.old_account_id = self.account_row.get("id")
        if isinstance(self.old_account_id, bool) or not isinstance(self.old_account_id, int):
            raise ImportRefused("account.json: no account id")
        self.keys: dict[type[models.Model], KeyMap] = {}
        self.users: dict[int, int] = {}
        self.user_model = get_user_model()
        self.skipped_models = {t.model for t in self.tables if t.skip_reason}
        self.referenced = self._referenced()

    def _referenced(self) -> set[type[models.Model]]:
        """Tables whose old -> new keys the import needs: targets of foreign keys and declared
        references, tagged tables, and any table a generic reference may name. The others
        (the audit log) keep no key map, so its memory does not grow with their rows."""
        found: set[type[models.Model]] = set()
        generic = any(declared_generic_references(t.model) for t in self.tables)
        for table in self.tables:
            found |= {target for target, _ in table.foreign.values()}
            for target in declared_references(table.model).values():
                try:
                    found.add(apps.get_model(target))
                except LookupError:
                    continue
            if tag_fields(table.model) or (generic and not declared_generic_references(table.model)):
                found.add(table.model)
        return found

    # --- pass 1: everything the archive can be wrong about, before any write ----------------
    def check(self) -> None:
        """Read every file once; ImportRefused on the first problem."""
        unknown = set(self.account_row) - {f.attname for f in Account._meta.concrete_fields}
        if unknown:
            raise ImportRefused(f"account.json: unknown columns {sorted(unknown)}")
        for table in self.tables:
            pk = table.model._meta.pk.attname
            last = None
            for n, row in enumerate(self.archive.rows(table.name), 1):
                if not set(row) <= table.columns:
                    raise ImportRefused(f"{table.name} row {n}: columns not in the manifest: "
                                        f"{sorted(set(row) - table.columns)}")
                key = row.get(pk)
                if isinstance(key, bool) or not isinstance(key, int) or not 0 < key < 2**63:
                    raise ImportRefused(f"{table.name} row {n}: no positive 64-bit primary key")
                if last is not None and key <= last:
                    raise ImportRefused(f"{table.name} row {n}: duplicate or unordered key {key}")
                last = key
                if row.get(table.account_attname) != self.old_account_id:
                    raise ImportRefused(f"{table.name} row {n}: belongs to another account "
                                        f"({row.get(table.account_attname)!r})")
        if TAGS_FILE in self.manifest["files"]:
            for n, row in enumerate(self.archive.rows(TAGS_FILE), 1):
                if (set(row) != {"model", "object_id", "tag"} or not isinstance(row["tag"], str)
                        or not 0 < len(row["tag"]) <= 100 or not isinstance(row["model"], str)):
                    raise ImportRefused(f"{TAGS_FILE} row {n}: not a tag")

    # --- the target account --------------------------------------------------------------------
    def target(self, number: str | None, into: str | None) -> Account:
        fields = {k: v for k, v in self.account_row.items() if k not in ACCOUNT_KEPT_OUT}
        chosen = into or number
        if chosen is not None:
            try:
                validate_account_number(chosen)
            except ValidationError:
                raise ImportRefused(f"{chosen!r} is not an account number (NNNN-NNNN-NNNN)") from None
        existing = Account.objects.filter(account_number=chosen).first() if chosen else None
        if into is not None and existing is not None:
            if existing.is_default_account:
                raise ImportRefused("never into the platform's default account")
            busy = [label(m) for m, f in tables().values()
                    if m not in HISTORY and not deployment_state(m)
                    and m._base_manager.filter(**{f: existing.pk}).exists()]
            if busy:
                raise ImportRefused(f"account {into} is not empty ({', '.join(busy)})")
            for name, value in fields.items():
                setattr(existing, name, value)
            _valid_account(existing)
            existing.save()
            return existing
        if number is not None and existing is not None:
            raise ImportRefused(f"account number {number} is taken")
        account = Account(account_number=chosen or "", **fields)
        _valid_account(account)
        account.save()
        return account

    # --- users ---------------------------------------------------------------------------------
    def resolve_users(self, report: Report, stand_in: bool) -> None:
        """Old user id -> user here: the one with this verified email, else a new one (always
        a new, inactive one for ``stand_in``). The members file is streamed in chunks: one
        query finds a chunk's verified addresses, one checks its usernames, one inserts its
        new users, so the cost is linear in members."""
        members = next((t for t in self.tables if t.model is UserProfile), None)
        if members is None:
            return
        taken: set[int] = set()  # users matched so far: an existing user joins once
        for chunk in _chunks(self.archive.rows(members.name)):
            rows: dict[int, tuple[str, dict[str, Any]]] = {}
            for row in chunk:
                old = row.get("user_id")
                if isinstance(old, int) and old not in self.users and old not in rows:
                    rows[old] = (str(row.get("user__email") or "").strip().lower(), row)
            found = {} if stand_in else _verified_users({email for email, _ in rows.values() if email})
            new: list[tuple[int, str, dict[str, Any]]] = []
            for old, (email, row) in rows.items():
                match = next((u for u in found.get(email, ()) if u not in taken), None)
                if match is None:
                    new.append((old, email, row))
                    continue
                taken.add(match)
                self.users[old] = match
                report.users_matched.append(email)
            for (old, email, _), user in zip(new, self._new_users(new, active=not stand_in), strict=True):
                self.users[old] = user
                report.users_created.append(email or f"user {old}")

    def _new_users(self, rows: list[tuple[int, str, dict[str, Any]]], active: bool) -> list[int]:
        """Create users without a password for ``rows`` (old id, email, member row), in one
        insert; a username taken here gets a random suffix. Returns their new ids, in order."""
        if not rows:
            return []
        bases = [str(row.get("user__username") or "user")[:130] for _, _, row in rows]
        users = []
        for base, username, (_, email, row) in zip(bases, self._free_usernames(bases), rows, strict=True):
            user = self.user_model(username=username, email=email,
                                   first_name=str(row.get("user__first_name") or "")[:150],
                                   last_name=str(row.get("user__last_name") or "")[:150],
                                   is_active=active)
            # what set_unusable_password stores (the prefix and 40 random characters), drawn in
            # one call instead of one per character: a tenth of the import's time otherwise
            user.password = UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)
            try:  # usernames were checked in bulk above
                user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
            except (ValidationError, TypeError, ValueError) as exc:
                raise ImportRefused(f"member {base!r}: {exc}") from None
            users.append(user)
        manager = self.user_model._base_manager
        if connection.features.can_return_rows_from_bulk_insert:
            manager.bulk_create(users)
        else:
            for user in users:
                user.save()
        return [user.pk for user in users]

    def _free_usernames(self, bases: list[str]) -> list[str]:
        """A username here for each of ``bases``: the base when no user has it (and no earlier
        one of ``bases``), else the base with a random suffix; one query per round."""
        names = list(bases)
        chosen: set[str] = set()
        pending = list(range(len(names)))
        while pending:
            taken = set(self.user_model._base_manager.filter(username__in={names[i] for i in pending})
                        .values_list("username", flat=True))
            retry = []
            for i in pending:
                if names[i] in taken or names[i] in chosen:
                    names[i] = f"{bases[i]}-{secrets.token_hex(3)}"
                    retry.append(i)
                else:
                    chosen.add(names[i])
            pending = retry
        return names

    # --- pass 2: the rows --------------------------------------------------------------------------
    def _remap(self, table: Table, n: int, attname: str, value: Any) -> Any:
        target, nullable = table.foreign[attname]
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ImportRefused(f"{table.name} row {n}: {attname} {value!r} is not a key")
        if target is self.user_model:
            new = self.users.get(value)
        elif target is Account:
            new = self.account.pk if value == self.old_account_id else None
        elif target in self.keys:
            new = self.keys[target].get(value)
            if new is None and target not in self.skipped_models:
                raise ImportRefused(f"{table.name} row {n}: {attname} {value!r} names no row of the export")
        else:
            raise ImportRefused(f"{table.name}: {attname} references {label(target)}, which an "
                                "export does not carry")
        if new is None:
            if nullable:
                return None
            raise SkipRow(f"it references a {label(target)} that was not recreated")
        return new

    def _soft(self, target_label: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            return None
        try:
            target = apps.get_model(target_label)
        except (LookupError, ValueError):
            return None
        if target is self.user_model:
            return self.users.get(value)
        if target is Account:
            return self.account.pk if value == self.old_account_id else None
        keys = self.keys.get(target)
        return keys.get(value) if keys is not None else None

    def _row(self, table: Table, n: int, row: dict[str, Any]) -> tuple[int, models.Model]:
        row = dict(row)
        for extra in MEMBER_USER_FIELDS:
            row.pop(extra, None)
        old = row.pop(table.model._meta.pk.attname)
        row[table.account_attname] = self.account.pk
        for attname in table.foreign:
            if attname in row:
                row[attname] = self._remap(table, n, attname, row[attname])
        for attname, target in declared_references(table.model).items():
            if attname in row:
                row[attname] = self._soft(target, row[attname])
        for kind, key in declared_generic_references(table.model):
            value = row.get(key)
            if value in (None, ""):
                continue
            new = self._soft(str(row.get(kind)), int(value) if str(value).isdigit() else None)
            row[key] = "" if new is None else str(new)
        row = adjust_row(table.model, row, self.account.pk)
        try:
            obj = table.model(**row)
            obj.clean_fields(exclude=[f.name for f in table.model._meta.concrete_fields
                                      if f.is_relation or f.primary_key])
        except ValidationError as exc:
            raise ImportRefused(f"{table.name} row {n}: {exc.messages}") from None
        except (TypeError, ValueError) as exc:  # a value of the wrong JSON type
            raise ImportRefused(f"{table.name} row {n}: {exc}") from None
        return old, obj

    def _insert(self, model: type[models.Model], objs: list[models.Model]) -> list[int]:
        """Insert as fixtures are (raw: no field's pre_save, so stored timestamps stay);
        returns the new keys, in order."""
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        manager = model._base_manager
        if not connection.features.can_return_rows_from_bulk_insert:
            return [manager._insert([o], fields=fields, returning_fields=[model._meta.pk],  # type: ignore[attr-defined]
                                    raw=True)[0][0] for o in objs]
        size = max(1, min(len(objs), connection.ops.bulk_batch_size(fields, objs)))
        keys: list[int] = []
        for start in range(0, len(objs), size):
            rows = manager._insert(objs[start:start + size], fields=fields,  # type: ignore[attr-defined]
                                   returning_fields=[model._meta.pk], raw=True)
            keys += [r[0] for r in rows]
        return keys

    def write_rows(self, report: Report) -> None:
        for table in self.tables:
            keys = self.keys[table.model] = KeyMap()
            keep = table.model in self.referenced
            written = 0
            for chunk in _chunks(enumerate(self.archive.rows(table.name), 1)):
                if table.skip_reason:
                    report.skipped[table.label][table.skip_reason] += len(chunk)
                    continue
                olds, objs = [], []
                for n, row in chunk:
                    try:
                        old, obj = self._row(table, n, row)
                    except SkipRow as exc:
                        report.skipped[table.label][str(exc)] += 1
                        continue
                    olds.append(old)
                    objs.append(obj)
                try:
                    new_keys = self._insert(table.model, objs)
                except (ValidationError, TypeError, ValueError) as exc:  # a value no column takes
                    raise ImportRefused(f"{table.name}: a value of the wrong type ({exc})") from None
                if keep:
                    for old, new in zip(olds, new_keys, strict=True):
                        keys.add(old, new)
                written += len(objs)
            if written:
                report.created[table.label] = written
                imported(table.model, self.account.pk)

    def write_tags(self, report: Report) -> None:
        if TAGS_FILE not in self.manifest["files"]:
            return
        tags: dict[str, int] = {}
        written = 0
        for chunk in _chunks(enumerate(self.archive.rows(TAGS_FILE), 1)):
            items = []
            for n, row in chunk:
                try:
                    model = apps.get_model(row["model"])
                except (LookupError, ValueError):
                    raise ImportRefused(f"{TAGS_FILE} row {n}: unknown model {row['model']!r}") from None
                managers = tag_fields(model) if model in self.keys else []
                if not managers:
                    raise ImportRefused(f"{TAGS_FILE} row {n}: {row['model']} is not a tagged table here")
                new = self.keys[model].get(row["object_id"])
                if new is None:
                    if model in self.skipped_models:
                        report.skipped[TAGS_MODEL]["its row was not recreated"] += 1
                        continue
                    raise ImportRefused(f"{TAGS_FILE} row {n}: names no row of the export")
                if row["tag"] not in tags:
                    tags[row["tag"]] = Tag.objects.get_or_create(name=row["tag"])[0].pk
                items.append(managers[0].through(content_type=ContentType.objects.get_for_model(model),
                                                 object_id=new, tag_id=tags[row["tag"]]))
            managers_through = {type(i) for i in items}
            for through in managers_through:
                through.objects.bulk_create([i for i in items if type(i) is through])
            written += len(items)
        if written:
            report.created[TAGS_MODEL] = written

    def run(self, number: str | None, into: str | None, invite: bool, stand_in: bool) -> Report:
        self.check()
        with transaction.atomic(), suppressed():
            self.account = self.target(number, into)
            report = Report(self.account)
            with tenant_context(self.account.pk):
                self.resolve_users(report, stand_in)
                self.write_rows(report)
                self.write_tags(report)
            record("account.imported", account_id=None, target_kind="accounts.account",
                   target_id=self.account.pk, target_repr=self.account.account_number,
                   changes={"from": self.manifest.get("account_number"), "rows": report.created})
        if invite:
            self._invite(report)
        omitted = self.manifest.get("omitted") or {}
        report.notes += [f"{name}: {', '.join(fields)} left out of the export (secret)"
                         for name, fields in sorted(omitted.items())]
        report.notes.append(NEVER_EXPORTED)
        if self.manifest.get("upgraded_from"):
            report.notes.append(f"export format version {self.manifest['upgraded_from']} upgraded: "
                                "its files carry no SHA-256, only their row counts were checked")
        return report

    def _invite(self, report: Report) -> None:
        created = set(report.users_created)
        base = f"{settings.ACCOUNT_DEFAULT_HTTP_PROTOCOL}://{tenant_host(self.account.account_number)}/"
        unusable = {"user__password__startswith": UNUSABLE_PASSWORD_PREFIX}
        profiles = (UserProfile.objects.filter(account=self.account, **unusable)
                    .select_related("user", "account").order_by("pk"))
        for profile in profiles.iterator(chunk_size=CHUNK):
            user = profile.user
            if user.email and user.email in created and not user.has_usable_password():
                if send_welcome(None, profile, base_url=base):
                    report.invited.append(user.email)


def import_account(source: str | IO[bytes], *, number: str | None = None, into: str | None = None,
                   invite: bool = False, stand_in_users: bool = False) -> Report:
    """Import the export at ``source`` into a new account (number ``number`` if given, else a
    fresh one) or into the existing empty account ``into``. ImportRefused (nothing written)
    when the archive or the target is not acceptable.

    ``stand_in_users`` (a support or staging copy): every member becomes a new *inactive*
    user without a password, so no real person is attached to the copy, finds it, or can
    sign in to it; platform superusers can."""
    if number is not None and into is not None:
        raise ImportRefused("give either a new account's number or an account to restore into")
    with ExportArchive(source, known_files()) as archive:
        try:
            return Importer(archive).run(number, into, invite, stand_in_users)
        except DatabaseError as exc:
            raise ImportRefused(f"the database refused the import: {exc}") from None
