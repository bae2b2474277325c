"""Concurrency: several OS processes create the same row at the same moment.

Each scenario starts 2-3 worker processes (``multiprocessing``, spawn: fresh interpreters,
own Django setup, own database connection) on a database of their own: a migrated and
seeded copy made for each test, on the backend of this run:

- ``DATABASE_URL=postgres://…`` (CI run 2): databases ``<name>_race_tpl`` (template) and
  ``<name>_race`` (per test, ``CREATE DATABASE … TEMPLATE``) on that server, and the run's
  ``REDIS_URL`` as the shared cache (emptied before every test by ``conftest``);
- otherwise (the embedded run): an SQLite *file* (pytest-django's SQLite test database is
  in memory, which other processes cannot open), copied from a migrated template for each
  test, and each process's own in-process cache.

The workers wait at two barriers: one before the job (every process has set Django up),
and one *before the first statement that writes or locks* (INSERT/UPDATE/DELETE,
``SELECT … FOR [NO KEY] UPDATE``, SQLite's ``BEGIN IMMEDIATE``): every worker has done all its
checks (the "does it exist yet?" reads) before any of them writes — the worst interleaving
for check-then-insert code. Every test asserts that all workers met there.

- On PostgreSQL this is a true race: the writes run at once; the unique indexes, the row
  locks and the transactions decide the winner.
- On SQLite the database serialises writers (``transaction_mode=IMMEDIATE``: an atomic block
  takes the write lock when it starts and waits for it). Without that the loser got
  "database is locked" (a traceback, a 503); the tests now prove that the loser waits, then
  sees the winner's rows.

Either way, the outcome must be one a serial run could give: exactly one process creates
the row; the others either find it (idempotent commands and provisioning functions, which
then report "already present"/"added") or get a clear error (the API: 409 with the JSON
error; no 500), and nothing is half-written (no user without its profile, no member
without its contact, all-or-nothing batches, exactly one primary contact, one default
account).

This module imports nothing from Django at module level: the spawned workers import it
before they configure Django.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
SETUP_TIMEOUT = 60.0       # a worker's interpreter start + django.setup() on a slow machine
RENDEZVOUS_TIMEOUT = 20.0  # all workers reach their first write (else the test fails)
JOB_TIMEOUT = 60.0
SECRET_KEY = "race-test-" + "k" * 50
FAR_FUTURE = "2100-01-01T00:00:00+00:00"

# The first statement that writes or takes a lock (SQLite's plain "BEGIN" takes none).
WRITE_OR_LOCK = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE|BEGIN\s+(IMMEDIATE|EXCLUSIVE))\b|\bFOR\s+(NO\s+KEY\s+)?UPDATE\b", re.I
)


# --- the worker side (runs in the spawned processes) ------------------------------------
class Rendezvous:
    """A database execute wrapper: before the first writing/locking statement, wait until
    every worker has got that far (once per process)."""

    def __init__(self, barrier: Any) -> None:
        self.barrier = barrier
        self.state = "not reached"

    def __call__(self, execute: Callable, sql: str, params: Any, many: bool, context: Any) -> Any:
        from tenancy.wall import unprefixed

        if self.state == "not reached" and WRITE_OR_LOCK.search(unprefixed(sql)):
            try:
                self.barrier.wait(RENDEZVOUS_TIMEOUT)
                self.state = "all met"
            except threading.BrokenBarrierError:
                self.state = "broken"
        return execute(sql, params, many, context)


def _configure(db_url: str, redis_url: str | None, env: dict[str, str]) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="tests.settings", DATABASE_URL=db_url, DEBUG="false",
        SECRET_KEY=SECRET_KEY, SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="CRITICAL", **env,
    )
    os.environ.pop("REDIS_URL", None)
    if redis_url:
        os.environ["REDIS_URL"] = redis_url
    os.chdir(ROOT)
    import django

    django.setup()
    from tenancy.wall import enter_platform

    enter_platform("concurrency test worker")  # not a request: explicit platform mode


def worker(index: int, db_url: str, redis_url: str | None, env: dict[str, str],
           barriers: tuple[Any, Any, Any], job: str, kwargs: dict[str, Any],
           results: Any) -> None:
    """Set Django up, meet the others, run ``job`` (with the rendezvous before its first
    write), wait until all jobs are done, and report; worker 0 also reports a snapshot."""
    start, rendezvous, finish = barriers
    try:
        _configure(db_url, redis_url, env)
        from django.db import connection

        hook = Rendezvous(rendezvous) if rendezvous is not None else None
        start.wait(SETUP_TIMEOUT)
        if hook is not None:
            with connection.execute_wrapper(hook):
                result = JOBS[job](index, **kwargs)
            result["rendezvous"] = hook.state
        else:
            result = JOBS[job](index, **kwargs)
        finish.wait(JOB_TIMEOUT)
        if index == 0:
            result["snapshot"] = snapshot()
        results.put((index, result))
    except BaseException:  # noqa: BLE001 - reported to the test, which fails with it
        results.put((index, {"crash": traceback.format_exc()}))


def job_command(index: int, argv: list[list[str]]) -> dict[str, Any]:
    """``manage.py <argv[index]>`` as manage.py runs it: exit code, stdout, stderr."""
    from django.core.management import execute_from_command_line

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            execute_from_command_line(["manage.py", *argv[index]])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001 - what the interpreter would print and exit with
            traceback.print_exc()
            code = 1
    return {"code": code, "stdout": out.getvalue(), "stderr": err.getvalue()}


def job_api(index: int, host: str | list[str], key: str | list[str], path: str,
            bodies: list[Any]) -> dict[str, Any]:
    """POST ``bodies[index]`` as JSON to ``/api/v1/<path>`` through the whole Django stack
    (on ``host[index]`` with ``key[index]`` when given lists: one account per worker)."""
    from django.test import Client

    if isinstance(host, list) and isinstance(key, list):
        host, key = host[index], key[index]

    client = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {key}",
                    raise_request_exception=False)
    response = client.post(f"/api/v1/{path}", data=json.dumps(bodies[index]),
                           content_type="application/json")
    try:
        body = response.json()
    except ValueError:
        body = response.content.decode(errors="replace")[:2000]
    return {"status": response.status_code, "content_type": response["Content-Type"],
            "body": body}


def job_add_member(index: int, number: str, username: str, email: str) -> dict[str, Any]:
    """``accounts.provisioning.add_member``: returns whether this call created the user."""
    from accounts.models import Account
    from accounts.provisioning import add_member

    profile, created = add_member(Account.objects.get(account_number=number), username,
                                  email=email)
    return {"created": created, "profile": profile.pk}


def job_seed(index: int) -> dict[str, Any]:
    """The template's rows: tenant ``acme`` (admin with an email: one primary contact) and
    ``blank`` (admin without an email: no contacts), each with its admin's API key."""
    from datetime import datetime

    from accounts.models import Account, ApiKey
    from accounts.provisioning import add_member
    from tenancy.hosts import tenant_host

    seed = {}
    for slug, email in (("acme", "admin@acme.test"), ("blank", "")):
        account = Account.objects.create(company_name=f"{slug.title()} Race")
        admin, _ = add_member(account, f"{slug}-admin", email=email, admin=True)
        key, raw = ApiKey.create(admin, "race")
        # A recent last use: authentication writes nothing (``touch``), so a request's
        # first write is the one under test.
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=datetime.fromisoformat(FAR_FUTURE))
        seed[slug] = {"number": account.account_number, "key": raw,
                      "host": tenant_host(account.account_number)}
    return seed


JOBS: dict[str, Callable[..., dict[str, Any]]] = {
    "command": job_command, "api": job_api, "add_member": job_add_member, "seed": job_seed,
}


def snapshot() -> dict[str, Any]:
    """Everything the assertions need, as plain data."""
    from django.contrib.auth import get_user_model

    from accounts.models import Account, AccountContact, Invitation, UserProfile
    from domains.models import Domain, HostnameClaim

    accounts = {}
    for account in Account.objects.order_by("id"):
        key = "default" if account.is_default_account else account.company_name
        contacts = AccountContact.objects.filter(account=account).order_by("email")
        accounts[key] = {
            "number": account.account_number,
            "is_default": account.is_default_account,
            "contacts": {c.email: c.is_primary for c in contacts},
            "members": {p.user.username: p.role
                        for p in UserProfile.objects.filter(account=account).select_related("user")},
            "invitations": {i.email: i.role for i in Invitation.objects.filter(
                account=account, accepted_at__isnull=True, revoked_at__isnull=True)},
        }
    users = get_user_model().objects.order_by("username")
    missing_contacts = [
        (p.user.username, p.account.company_name)
        for p in UserProfile.objects.select_related("user", "account")
        if p.user.email and not AccountContact.objects.filter(
            account=p.account, email=p.user.email.lower()).exists()
    ]
    return {
        "accounts": accounts,
        "default_accounts": Account.objects.filter(is_default_account=True).count(),
        "users": {u.username: {"superuser": u.is_superuser, "staff": u.is_staff} for u in users},
        "users_without_profile": sorted(
            u.username for u in users if not UserProfile.objects.filter(user=u).exists()
        ),
        "members_without_contact": missing_contacts,
        "domains": sorted((d.hostname, d.account.company_name)
                          for d in Domain.objects.select_related("account")),
        "claims": sorted((c.hostname, c.account.company_name)
                         for c in HostnameClaim.objects.select_related("account")),
    }


# --- the test side --------------------------------------------------------------------------
class RaceDatabases:
    """A migrated, seeded template database and a fresh copy of it for each test."""

    def __init__(self, tmp: Path) -> None:
        outer = os.environ.get("DATABASE_URL", "")
        self.postgres = outer.startswith("postgres")
        self.redis_url = os.environ.get("REDIS_URL") or None
        if self.postgres:
            parsed = urlparse(outer)
            base = parsed.path.lstrip("/") or "smarter"
            self._admin_url = parsed._replace(path="/postgres").geturl()
            self.template_url = parsed._replace(path=f"/{base}_race_tpl").geturl()
            self.url = parsed._replace(path=f"/{base}_race").geturl()
        else:
            self.template_file, self.file = tmp / "template.sqlite3", tmp / "race.sqlite3"
            self.template_url = f"sqlite:///{self.template_file}"
            self.url = f"sqlite:///{self.file}"

    @property
    def backend(self) -> str:
        return "postgresql" if self.postgres else "sqlite"

    def _pg(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self._admin_url, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    @staticmethod
    def _name(url: str) -> str:
        return urlparse(url).path.lstrip("/")

    def build_template(self) -> dict[str, Any]:
        if self.postgres:
            name = self._name(self.template_url)
            self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
        env = {**os.environ, "DATABASE_URL": self.template_url, "DJANGO_SETTINGS_MODULE":
               "tests.settings"}
        env.pop("REDIS_URL", None)
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
                       env=env, check=True, timeout=120)
        return race(self.template_url, None, "seed", workers=1, rendezvous=False)[0]

    def fresh(self) -> str:
        """A copy of the template for one test."""
        if self.postgres:
            name, template = self._name(self.url), self._name(self.template_url)
            # a transaction-mode pooler (CI run 3) keeps idle server connections to the
            # template, and a database is copied only when nobody is connected to it
            self._pg(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                     "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     f"WHERE datname = '{template}' AND pid <> pg_backend_pid()",
                     f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            shutil.copyfile(self.template_file, self.file)
        return self.url

    def drop(self) -> None:
        if self.postgres:
            self._pg(*(f'DROP DATABASE IF EXISTS "{self._name(u)}" WITH (FORCE)'
                       for u in (self.url, self.template_url)))


def race(db_url: str, redis_url: str | None, job: str, workers: int = 2,
         rendezvous: bool = True, env: dict[str, str] | None = None,
         **kwargs: Any) -> list[dict[str, Any]]:
    """Run ``job`` in ``workers`` spawned processes at once; their results in worker order
    (worker 0's with ``snapshot``). Every wait is bounded; stragglers are killed."""
    ctx = multiprocessing.get_context("spawn")
    barriers = (ctx.Barrier(workers), ctx.Barrier(workers) if rendezvous else None,
                ctx.Barrier(workers))
    results = ctx.Queue()
    procs = [
        ctx.Process(target=worker, args=(i, db_url, redis_url, env or {}, barriers, job,
                                         kwargs, results), daemon=True)
        for i in range(workers)
    ]
    for proc in procs:
        proc.start()
    collected: dict[int, dict[str, Any]] = {}
    try:
        for _ in procs:
            index, result = results.get(timeout=SETUP_TIMEOUT + RENDEZVOUS_TIMEOUT + 2 * JOB_TIMEOUT)
            collected[index] = result
    except queue.Empty:
        pytest.fail(f"workers did not report in time: got {sorted(collected)} of {workers}")
    finally:
        for proc in procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()
                proc.join(5)
    crashes = [r["crash"] for r in collected.values() if "crash" in r]
    assert not crashes, crashes[0]
    ordered = [collected[i] for i in range(workers)]
    if rendezvous:
        # Every worker had done its reads before any wrote: they really raced.
        assert [r["rendezvous"] for r in ordered] == ["all met"] * workers, ordered
    return ordered


@pytest.fixture(scope="module")
def race_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RaceDatabases, dict]]:
    dbs = RaceDatabases(tmp_path_factory.mktemp("race"))
    try:
        seed = dbs.build_template()
        yield dbs, seed
    finally:
        dbs.drop()


class Race:
    """One test's database and its seed; ``run`` races a job on it."""

    def __init__(self, dbs: RaceDatabases, seed: dict[str, Any]) -> None:
        self.dbs, self.seed = dbs, seed
        self.url = dbs.fresh()

    def run(self, job: str, workers: int = 2, **kwargs: Any) -> list[dict[str, Any]]:
        return race(self.url, self.dbs.redis_url, job, workers, **kwargs)


@pytest.fixture
def race_db(race_template: tuple[RaceDatabases, dict]) -> Race:
    return Race(*race_template)


def no_traceback(result: dict[str, Any]) -> None:
    assert "Traceback" not in result["stderr"] + result["stdout"], result


def one_line_error(result: dict[str, Any]) -> str:
    """A failed command: non-zero exit, one line on stderr, no traceback."""
    assert result["code"] != 0, result
    no_traceback(result)
    lines = result["stderr"].strip().splitlines()
    assert len(lines) == 1, result
    return lines[0]


def api_error(result: dict[str, Any], status: int) -> dict[str, Any]:
    assert result["status"] == status, result
    assert result["content_type"].startswith("application/json"), result
    assert set(result["body"]) == {"error"}, result
    return result["body"]["error"]


def one_created_one_conflict(results: list[dict[str, Any]], created: int = 201) -> tuple[int, dict[str, Any]]:
    """Two API calls raced: exactly one ``created`` (201, or 202 for an invitation) and one 409
    JSON conflict. The winner's index and the snapshot."""
    assert sorted(r["status"] for r in results) == [created, 409], results
    winner = next(i for i, r in enumerate(results) if r["status"] == created)
    assert api_error(results[1 - winner], 409)["code"] == "conflict"
    return winner, results[0]["snapshot"]


def assert_consistent(snap: dict[str, Any]) -> None:
    """Nothing half-written: every user has a profile, every member with an email is a
    contact, every account with contacts has exactly one primary, one default at most."""
    assert snap["users_without_profile"] == [], snap
    assert snap["members_without_contact"] == [], snap
    assert snap["default_accounts"] <= 1, snap
    assert snap["domains"] == snap["claims"], snap  # every domain has its account's claim, no more
    for name, account in snap["accounts"].items():
        if account["contacts"]:
            assert sum(account["contacts"].values()) == 1, (name, account)


# --- (a) the same contact, the same primary contact ------------------------------------------
def test_api_same_contact_email_one_wins_other_gets_409(race_db: Race):
    acme = race_db.seed["acme"]
    results = race_db.run("api", host=acme["host"], key=acme["key"], path="contacts/",
                          bodies=[{"email": "Race@X.io"}, {"email": "race@x.io", "phone": "1"}])
    _, snap = one_created_one_conflict(results)
    assert snap["accounts"]["Acme Race"]["contacts"] == {"admin@acme.test": True,
                                                         "race@x.io": False}
    assert_consistent(snap)


def test_api_two_new_primary_contacts_leave_exactly_one_primary(race_db: Race):
    """An account without contacts; two admins add a primary contact at once."""
    blank = race_db.seed["blank"]
    results = race_db.run("api", host=blank["host"], key=blank["key"], path="contacts/",
                          bodies=[{"email": "one@x.io", "is_primary": True},
                                  {"email": "two@x.io", "is_primary": True}])
    # Setting is_primary moves the flag: both requests succeed, as in a serial run.
    assert [r["status"] for r in results] == [201, 201], results
    contacts = results[0]["snapshot"]["accounts"]["Blank Race"]["contacts"]
    assert set(contacts) == {"one@x.io", "two@x.io"}
    assert sum(contacts.values()) == 1
    assert_consistent(results[0]["snapshot"])


def test_api_two_new_plain_contacts_on_an_empty_account_both_succeed(race_db: Race):
    """The first contact of an account becomes primary; two "first" contacts at once must
    not make the loser fail over a flag it never asked for."""
    blank = race_db.seed["blank"]
    results = race_db.run("api", host=blank["host"], key=blank["key"], path="contacts/",
                          bodies=[{"email": "one@x.io"}, {"email": "two@x.io"}])
    assert [r["status"] for r in results] == [201, 201], results
    contacts = results[0]["snapshot"]["accounts"]["Blank Race"]["contacts"]
    assert set(contacts) == {"one@x.io", "two@x.io"} and sum(contacts.values()) == 1
    assert_consistent(results[0]["snapshot"])


def test_create_user_same_email_makes_one_user_one_contact_and_one_primary(race_db: Race):
    """Two new users with the same email added at once on an account without contacts: the
    operator vouches for the address, so it is one person's; the other is refused cleanly."""
    number = race_db.seed["blank"]["number"]
    results = race_db.run("command", argv=[
        ["create_user", name, "--account", number, "--email", "Shared@X.io"]
        for name in ("ann", "ann2")
    ])
    assert sorted(r["code"] for r in results) == [0, 1], results
    for r in results:
        no_traceback(r)
    (refused,) = [r for r in results if r["code"] == 1]
    assert "belongs to another user" in refused["stderr"]
    snap = results[0]["snapshot"]
    blank = snap["accounts"]["Blank Race"]
    assert blank["contacts"] == {"shared@x.io": True}
    assert len(set(blank["members"]) & {"ann", "ann2"}) == 1 and "blank-admin" in blank["members"]
    assert_consistent(snap)


# --- (b) the default account ---------------------------------------------------------------
def test_initialize_platform_three_at_once_creates_one_default_and_one_admin(race_db: Race):
    results = race_db.run("command", workers=3, env={"CI": "true"},
                          argv=[["initialize_platform", "--no-input"]] * 3)
    for r in results:
        no_traceback(r)
    assert [r["code"] for r in results] == [0, 0, 0], results
    account_lines = [r["stdout"].splitlines()[0] for r in results]
    admin_lines = [r["stdout"].splitlines()[1] for r in results]
    assert sum(line.endswith(": created") for line in account_lines) == 1, account_lines
    assert sum(line.endswith(": already present") for line in account_lines) == 2, account_lines
    assert sum(line.endswith(": created") for line in admin_lines) == 1, admin_lines
    snap = results[0]["snapshot"]
    assert snap["default_accounts"] == 1
    assert snap["accounts"]["default"]["members"] == {"admin": "admin"}
    assert snap["accounts"]["default"]["contacts"] == {"admin@localhost": True}
    assert snap["users"]["admin"] == {"superuser": True, "staff": True}
    assert_consistent(snap)


# --- (c) the same membership (UserProfile) -------------------------------------------------
def test_create_user_same_user_same_account_creates_one_profile(race_db: Race):
    number = race_db.seed["acme"]["number"]
    results = race_db.run("command", argv=[
        ["create_user", "bob", "--account", number, "--email", "bob@x.io"]
    ] * 2)
    for r in results:
        no_traceback(r)
    assert [r["code"] for r in results] == [0, 0], results
    lines = sorted(r["stdout"].strip() for r in results)
    # One created the user; the other found it, as a second run does.
    assert lines == [f"added bob in {number} as member", f"created bob in {number} as member"]
    snap = results[0]["snapshot"]
    acme = snap["accounts"]["Acme Race"]
    assert acme["members"] == {"acme-admin": "admin", "bob": "member"}
    assert acme["contacts"] == {"admin@acme.test": True, "bob@x.io": False}
    assert_consistent(snap)


def test_add_member_three_at_once_creates_the_user_once(race_db: Race):
    number = race_db.seed["acme"]["number"]
    results = race_db.run("add_member", workers=3, number=number, username="carol",
                          email="carol@x.io")
    assert sorted(r["created"] for r in results) == [False, False, True], results
    assert len({r["profile"] for r in results}) == 1
    snap = results[0]["snapshot"]
    assert snap["accounts"]["Acme Race"]["members"]["carol"] == "member"
    assert_consistent(snap)


def test_api_same_member_one_invitation_other_gets_409(race_db: Race):
    """Adding a member invites them (issue 22): two racing adds make one open invitation, and
    nobody is a member before they accept."""
    acme = race_db.seed["acme"]
    results = race_db.run("api", host=acme["host"], key=acme["key"], path="users/",
                          bodies=[{"email": "dave@x.io"}, {"email": "Dave@X.io", "role": "admin"}])
    winner, snap = one_created_one_conflict(results, created=202)
    assert snap["accounts"]["Acme Race"]["invitations"] == {
        "dave@x.io": ["member", "admin"][winner]}
    assert set(snap["accounts"]["Acme Race"]["members"]) == {"acme-admin"}
    assert_consistent(snap)


def test_api_overlapping_batches_all_or_nothing(race_db: Race):
    """Two batches sharing one person: one is invited whole, the other not at all."""
    acme = race_db.seed["acme"]
    results = race_db.run("api", host=acme["host"], key=acme["key"], path="users/batch/",
                          bodies=[[{"email": "eve@x.io"}, {"email": "shared@x.io"}],
                                  [{"email": "shared@x.io"}, {"email": "frank@x.io"}]])
    winner, snap = one_created_one_conflict(results, created=202)
    expected = [{"eve@x.io", "shared@x.io"}, {"shared@x.io", "frank@x.io"}][winner]
    assert set(snap["accounts"]["Acme Race"]["invitations"]) == expected  # no loser's invitation
    assert set(snap["accounts"]["Acme Race"]["members"]) == {"acme-admin"}
    assert set(snap["users"]) == {"acme-admin", "blank-admin"}  # users come with acceptance
    assert_consistent(snap)


# --- custom domains: two accounts claim the same name at once ------------------------------
def test_api_two_accounts_claim_the_same_domain_one_wins_other_gets_409(race_db: Race):
    acme, blank = race_db.seed["acme"], race_db.seed["blank"]
    results = race_db.run("api", host=[acme["host"], blank["host"]], key=[acme["key"], blank["key"]],
                          path="domains/", bodies=[{"hostname": "race.example.org"},
                                                   {"hostname": "RACE.Example.org."}])
    winner, snap = one_created_one_conflict(results)
    assert results[winner]["body"]["hostname"] == "race.example.org"
    assert results[winner]["body"]["status"] == "pending"
    winner_account = ["Acme Race", "Blank Race"][winner]
    # the claim table decided: one claim, the winner's, and no domain row of the loser
    assert snap["claims"] == snap["domains"] == [("race.example.org", winner_account)], snap
    assert_consistent(snap)
