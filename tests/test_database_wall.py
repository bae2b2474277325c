"""The database wall (tenancy.wall): its contract for every tenant table.

On PostgreSQL the row-level security policies keep it, for the ORM and for raw SQL, directly
and through PgBouncer in transaction mode; on SQLite the tenant-owned managers keep the ORM
part (raw SQL on SQLite is not walled: those tests need PostgreSQL). The suite connects to
PostgreSQL as a role that row-level security binds (tests/conftest.py), so nothing here can
pass by a superuser's bypass.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from typing import Any

import pytest
from django.apps import apps
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection, models, transaction
from django.db.utils import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.urls import clear_url_caches, path

from accounts.models import ApiKey, DailyActiveMember, DailyUsage, HandoffToken, Invitation, UserProfile
from api.models import IdempotentRequest
from audit.guard import purging
from audit.models import AuditEvent
from identity.scim.models import ScimToken, ScimUser
from lifecycle.models import DataExport
from routerdomains.models import RouterDomainRemoval
from smarter.urls import common, tenant
from tenancy import wall, wall_policy
from tenancy.context import tenant_context
from tenancy.tasks import tenant_task
from tenancy.wall_policy import (
    RenewTenantWalls,
    TenantWall,
    check_registrations,
    check_wall_policies,
    citus_policy_sql,
    shared_owner_column,
    tenant_tables,
)
from tests.conftest import host_client
from tests.support.domain_support import verified_domain
from tests.support.sso_support import seed_sso_rows
from workspaces.models import Workspace

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row-level security is PostgreSQL's (SQLite: the ORM part only)"
)
TABLES = sorted(tenant_tables(), key=lambda m: m._meta.label)


def _label(model: type[models.Model]) -> str:
    return model._meta.label


@pytest.fixture
def world(tenant_a, tenant_b, platform):  # type: ignore[no-untyped-def]
    """Rows of A, B and the platform in every tenant table."""
    for t, tag in ((tenant_a, "alpha"), (tenant_b, "bravo"), (platform, "plat")):
        Workspace.objects.create(user_profile=t.admin, name=f"{tag}-ws")
        verified_domain(t.admin, f"{tag}.wall-{tag}.test")
        Invitation.issue(t.account, f"invitee@{tag}.test", "member", t.admin)
        HandoffToken.issue(t.admin.user, t.account, t.host)
        DataExport.objects.create(account=t.account, requested_by=t.admin)
        ApiKey.create(t.admin, name=f"wall-{tag}")
        DailyUsage.objects.create(account=t.account, day="2026-12-01", requests=1)
        DailyActiveMember.objects.create(account=t.account, day="2026-12-01", member_id=t.admin.pk)
        IdempotentRequest.objects.create(account=t.account, key=f"wall-{tag}", fingerprint="0" * 64)
        ScimToken.create(t.account, f"wall-{tag}", t.admin)
        ScimUser.objects.create(user_profile=t.member, user_name=f"wall-{tag}")
        seed_sso_rows(t.account, tag)
    for model in TABLES:  # the fixture itself must cover every tenant table
        counts = {t.account.pk for t in (tenant_a, tenant_b)} - set(
            model._base_manager.values_list("account_id", flat=True))
        assert not counts, f"{_label(model)} has no rows of accounts {counts}"
    return tenant_a, tenant_b, platform


def _shared(model: type[models.Model], platform: Any) -> set[int]:
    """The platform rows the read rule shares with every tenant (their account id)."""
    return {platform.account.pk} if shared_owner_column(model) else set()


def _raw_account_ids(model: type[models.Model]) -> set[int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT account_id FROM {model._meta.db_table}")  # noqa: S608
        return {row[0] for row in cursor.fetchall()}


# --- the modes ----------------------------------------------------------------------------------

def test_the_test_process_is_in_explicit_platform_mode():
    assert wall.in_platform_mode()
    assert wall.current_wall().reason == "test process"


def test_a_new_thread_starts_with_no_mode():
    seen: list[Any] = []
    thread = threading.Thread(target=lambda: seen.append(wall.current_wall()))
    thread.start()
    thread.join()
    assert seen == [None]


def test_platform_mode_and_crossings_need_a_reason():
    with pytest.raises(ValueError, match="reason"):
        wall.enter_platform("")
    with tenant_context(1), pytest.raises(ValueError, match="reason"), wall.crossing(""):
        pass


def test_a_crossing_is_logged_and_restores_the_tenant(caplog):
    with tenant_context(41):
        with caplog.at_level(logging.DEBUG, logger="tenancy.wall"), wall.crossing("a reason"):
            assert wall.in_platform_mode()
        assert wall.current_wall().account_id == 41 and not wall.in_platform_mode()
    assert any(r.getMessage() == "wall crossing: a reason" and r.account_id == 41
               for r in caplog.records)
    assert wall.in_platform_mode()


def test_tenant_context_none_never_widens_the_wall():
    with tenant_context(7), tenant_context(None):
        assert wall.current_wall().account_id == 7


@pytest.mark.django_db
def test_management_commands_run_in_platform_mode(monkeypatch):
    seen: list[Any] = []
    from accounts.management.commands import reset_cache

    monkeypatch.setattr(reset_cache.Command, "handle",
                        lambda self, *a, **k: seen.append(wall.current_wall()))
    with tenant_context(5):
        call_command("reset_cache")
    assert seen[0].platform and seen[0].reason == "command reset_cache"


@tenant_task
def _wall_of_task(account_id: int) -> list[Any]:
    current = wall.current_wall()
    return [current.account_id, current.platform]


@pytest.mark.django_db
def test_tenant_tasks_run_in_their_tenant_mode():
    assert _wall_of_task.enqueue(12).return_value == [12, False]


@pytest.mark.django_db
def test_a_request_on_a_tenant_host_is_in_that_tenant_mode(tenant_a):
    seen: list[Any] = []

    def home(request: HttpRequest) -> JsonResponse:
        seen.append(wall.current_wall())
        return JsonResponse({})

    _with_view("wall-probe/", home, lambda: host_client(tenant_a.host).get("/wall-probe/"))
    assert seen[0].account_id == tenant_a.account.pk and not seen[0].platform


# --- the contract, every tenant table -----------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("model", TABLES, ids=_label)
def test_orm_reads_inside_a_tenant_see_only_its_rows(world, model):
    a, b, platform = world
    with tenant_context(a.account.pk):
        seen = set(model.objects.values_list("account_id", flat=True))
        assert list(model.objects.filter(account_id=b.account.pk)) == []
    assert a.account.pk in seen
    assert seen <= {a.account.pk} | _shared(model, platform)


@contextmanager
def no_mode() -> Iterator[None]:
    """This thread with no mode, as a thread nobody put in one (the test's uncommitted rows
    are visible only on its own connection, so a real second thread would see nothing anyway)."""
    token = wall._current.set(None)
    try:
        yield
    finally:
        wall._current.reset(token)


@pytest.mark.django_db
@pytest.mark.parametrize("model", TABLES, ids=_label)
def test_no_mode_sees_no_rows(world, model):
    """The ORM refuses loudly (tests/test_wall_no_mode.py); the database shows nothing."""
    with no_mode():
        with pytest.raises(wall.NoWallModeError, match="enter_platform"):
            list(model.objects.all())
        if connection.vendor == "postgresql":
            assert _raw_account_ids(model) == set()
    assert model.objects.exists()  # back in platform mode


@postgres_only
@pytest.mark.django_db
def test_no_mode_cannot_write_a_tenant_row(world):
    a, _, _ = world
    with no_mode(), pytest.raises(DatabaseError, match="row-level security"):
        with transaction.atomic():
            Workspace(user_profile=a.admin, name="nobody").save()


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("model", TABLES, ids=_label)
def test_raw_select_inside_a_tenant_sees_only_its_rows(world, model):
    a, b, platform = world
    with tenant_context(a.account.pk):
        seen = _raw_account_ids(model)
    assert a.account.pk in seen
    assert seen <= {a.account.pk} | _shared(model, platform)
    assert {a.account.pk, b.account.pk, platform.account.pk} <= _raw_account_ids(model)


class _RolledBack(Exception):
    pass


def _counts(model: type[models.Model], *accounts: Any) -> list[int]:
    with wall.crossing("the test counts every account's rows"):
        return [model._base_manager.filter(account_id=t.account.pk).count() for t in accounts]


def _rolled_back(work: Any) -> Any:
    """``work()``'s result, with what it changed rolled back (deleting one table's rows
    alone may break foreign keys the test database checks at teardown)."""
    try:
        with transaction.atomic():
            raise _RolledBack(work())
    except _RolledBack as done:
        return done.args[0]


@pytest.mark.django_db
@pytest.mark.parametrize("model", [m for m in TABLES if m is not AuditEvent], ids=_label)
def test_update_and_delete_inside_a_tenant_touch_only_its_rows(world, model):
    a, b, platform = world
    before = _counts(model, a, b, platform)
    pk_field = model._meta.pk.attname

    def work() -> Any:
        with tenant_context(a.account.pk):
            updated = model.objects.update(**{pk_field: models.F(pk_field)})
            model.objects.all().delete()
        return updated, _counts(model, a, b, platform)

    updated, after = _rolled_back(work)
    assert updated == before[0]
    assert after == [0, before[1], before[2]]


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("model", TABLES, ids=_label)
def test_raw_update_and_delete_inside_a_tenant_touch_only_its_rows(world, model):
    a, b, platform = world
    table = model._meta.db_table
    before = _counts(model, a, b, platform)

    def work() -> Any:
        # audit events: deleted only inside a purge (a trigger refuses any other DELETE), so
        # the purge path is opened here and the wall alone decides which rows go
        guard = purging() if model is AuditEvent else nullcontext()
        with tenant_context(a.account.pk), guard, connection.cursor() as cursor:
            updated = None
            if model is not AuditEvent:  # append-only: a trigger refuses UPDATE
                cursor.execute(f"UPDATE {table} SET account_id = account_id")  # noqa: S608
                updated = cursor.rowcount
            cursor.execute(f"DELETE FROM {table}")  # noqa: S608
            deleted = cursor.rowcount
        return updated, deleted, _counts(model, a, b, platform)

    updated, deleted, after = _rolled_back(work)
    assert updated in (None, before[0]) and deleted == before[0]
    assert after == [0, before[1], before[2]]


@pytest.mark.django_db
def test_iterator_inside_a_tenant_sees_only_its_rows(world):
    a, b, _ = world
    with tenant_context(a.account.pk):
        names = {w.name for w in Workspace.objects.iterator(chunk_size=1)}
    assert "alpha-ws" in names and "bravo-ws" not in names


@postgres_only
@pytest.mark.django_db
def test_executemany_inside_a_tenant_touches_only_its_rows(world):
    a, b, _ = world
    with tenant_context(a.account.pk), connection.cursor() as cursor:
        cursor.executemany("UPDATE workspaces_workspace SET description = %s WHERE name = %s",
                           [("many", "alpha-ws"), ("many", "bravo-ws")])
    assert set(Workspace.objects.filter(description="many").values_list("name", flat=True)) == {
        "alpha-ws"}


@postgres_only
@pytest.mark.django_db
def test_a_tenant_cannot_write_a_row_of_another_account(world):
    a, b, _ = world
    with tenant_context(a.account.pk), pytest.raises(DatabaseError, match="row-level security"):
        with transaction.atomic():
            Workspace(user_profile=b.admin, name="planted").save()
    with tenant_context(a.account.pk), pytest.raises(DatabaseError, match="row-level security"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE workspaces_workspace SET account_id = %s",
                           [b.account.pk])


@postgres_only
@pytest.mark.django_db
def test_the_wall_rides_in_each_statement_no_round_trip_of_its_own(world):
    """The settings travel in the statement they govern: one execute (one round trip) per
    ORM query, in and out of atomic(); a block that runs no query sends nothing."""
    a, _, _ = world
    sent: list[str] = []

    def record(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        sent.append(sql)
        return execute(sql, params, many, context)

    wall.shared_owner()  # warm: the shared owner comes from the cache, as on a warm request
    with tenant_context(a.account.pk), connection.execute_wrapper(record):
        assert sent == []
        names = list(Workspace.objects.values_list("name", flat=True))
        Workspace.objects.filter(name="none").update(description="x")
    assert "alpha-ws" in names and "bravo-ws" not in names
    assert len(sent) == 2
    prefix = wall.Wall(a.account.pk, False).sql
    assert all(sql.startswith(prefix) for sql in sent), sent


def _plan(sql: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def _tenant_checked_first(plan: str) -> bool:
    """Whether the plan reads the tenant's id once (an InitPlan) and every policy filter tests
    the row against it before calling ``current_setting`` for a row."""
    def tenant_first(line: str) -> bool:
        call = line.find("current_setting")
        return "account_id = $" in line and (call == -1 or line.index("account_id = $") < call)

    filters = [line for line in plan.splitlines() if "Filter" in line]
    return "InitPlan" in plan and bool(filters) and all(tenant_first(line) for line in filters)


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("model", TABLES, ids=_label)
def test_the_policies_read_the_tenant_once_per_statement_not_per_row(world, model):
    """Per row a tenant's statement compares ``account_id`` with a parameter first (a
    ``current_setting`` call per row is what made pages of many rows slow)."""
    a, _, _ = world
    table = model._meta.db_table
    with tenant_context(a.account.pk):
        select = _plan(f"SELECT * FROM {table} WHERE account_id = {int(a.account.pk)}")  # noqa: S608
        update = _plan(f"UPDATE {table} SET account_id = account_id")  # noqa: S608
    assert _tenant_checked_first(select), select
    assert _tenant_checked_first(update), update


@postgres_only
@pytest.mark.django_db
def test_renewing_the_walls_replaces_per_row_predicates_and_keeps_the_rows(world):
    """A database migrated with older policies gets the current ones from RenewTenantWalls
    (the migration each app with tenant tables carries), and sees the same rows."""
    from django.db.migrations.executor import MigrationExecutor

    a, b, platform = world
    table = Workspace._meta.db_table
    setting = "NULLIF(current_setting('smarter.{}', true), '')::bigint".format
    per_row = f"current_setting('smarter.platform', true) = 'on' OR account_id = {setting('account_id')}"
    shared = f"account_id = {setting('shared_account_id')} AND user_profile_id = {setting('shared_owner_id')}"
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the fixture's rows: ALTER TABLE waits
        cursor.execute(f"DROP POLICY tenant_shared_wall ON {table}")
        cursor.execute(f"DROP POLICY tenant_wall ON {table}")
        cursor.execute(f"CREATE POLICY tenant_wall ON {table} USING ({per_row}) "
                       f"WITH CHECK ({per_row})")
        cursor.execute(f"CREATE POLICY tenant_wall_shared ON {table} FOR SELECT USING ({shared})")
    with tenant_context(a.account.pk):
        before = _raw_account_ids(Workspace)
        assert not _tenant_checked_first(_plan(f"SELECT * FROM {table}"))  # noqa: S608
    state = MigrationExecutor(connection).loader.project_state()
    with connection.schema_editor(atomic=False) as editor:
        RenewTenantWalls().database_forwards("workspaces", editor, state, state)
    with tenant_context(a.account.pk):
        after = _raw_account_ids(Workspace)
        plan = _plan(f"SELECT * FROM {table}")  # noqa: S608
    assert before == after == {a.account.pk, platform.account.pk}
    assert _tenant_checked_first(plan), plan
    with connection.cursor() as cursor:
        cursor.execute("SELECT policyname FROM pg_policies WHERE tablename = %s", [table])
        assert {row[0] for row in cursor.fetchall()} == {"tenant_wall", "tenant_shared_wall"}


# --- a deliberately leaky view ------------------------------------------------------------------

def _with_view(route: str, view: Any, run: Any) -> Any:
    """Serve ``view`` at ``route`` on every host while ``run()`` runs."""
    pattern = path(route, view)
    lists = (common.urlpatterns, tenant.urlpatterns)  # the tenant URLconf adds SCIM to common's
    for patterns in lists:
        patterns.insert(0, pattern)
    clear_url_caches()
    try:
        return run()
    finally:
        for patterns in lists:
            patterns.remove(pattern)
        clear_url_caches()


def leaky_view(request: HttpRequest, label: str) -> JsonResponse:
    """Everything a view that forgot its filter would show: ``objects.all()`` and raw SQL."""
    model = apps.get_model(label)
    body: dict[str, Any] = {"orm": sorted(set(model.objects.values_list("account_id", flat=True)))}
    if connection.vendor == "postgresql":
        body["raw"] = sorted(_raw_account_ids(model))
    return JsonResponse(body)


@pytest.mark.django_db
@pytest.mark.parametrize("model", TABLES, ids=_label)
def test_a_leaky_view_on_a_tenant_host_shows_only_that_tenant(world, model):
    a, b, platform = world
    response = _with_view("leaky/<str:label>/", leaky_view,
                          lambda: host_client(a.host).get(f"/leaky/{_label(model)}/"))
    assert response.status_code == 200
    allowed = {a.account.pk} | _shared(model, platform)
    for seen in response.json().values():
        assert a.account.pk in seen
        assert set(seen) <= allowed, f"{_label(model)} leaked {set(seen) - allowed}"


# --- PgBouncer in transaction mode --------------------------------------------------------------

@pytest.fixture
def committed_world(make_tenant) -> Iterator[tuple[Any, Any]]:  # type: ignore[no-untyped-def]
    a, b = make_tenant("poolalpha"), make_tenant("poolbravo")
    for t in (a, b):
        for i in range(3):
            Workspace.objects.create(user_profile=t.admin, name=f"{t.account.pk}-{i}")
    yield a, b


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_pooled_server_connection_never_shows_a_rows_to_b(committed_world):
    """Two clients of a one-connection PgBouncer pool in transaction mode, taking turns and
    concurrently: every transaction sees its own tenant only, and one that states no tenant
    sees nothing, whatever ran on the server connection before."""
    import psycopg

    from tests.support.services import pgbouncer_server

    a, b = committed_world
    settings_dict = connection.settings_dict
    with pgbouncer_server(int(settings_dict["PORT"] or 5432), pool_size=1) as bouncer:
        url = (f"postgres://{settings_dict['USER']}@127.0.0.1:{bouncer.port}/"
               f"{settings_dict['NAME']}")

        def client() -> psycopg.Connection:
            return psycopg.connect(url, autocommit=True, prepare_threshold=None,
                                   cursor_factory=psycopg.ClientCursor)

        def seen(conn: psycopg.Connection, account_id: int | None) -> set[int]:
            prefix = wall.NO_MODE_SQL if account_id is None else wall.Wall(account_id, False).sql
            cursor = conn.execute(prefix + "SELECT account_id FROM workspaces_workspace")
            for _ in range(wall.PREFIX_STATEMENTS):
                cursor.nextset()
            return {row[0] for row in cursor.fetchall()}

        ids = {"a": a.account.pk, "b": b.account.pk}
        with client() as conn_a, client() as conn_b:
            backends = set()
            for _ in range(5):
                assert seen(conn_a, ids["a"]) == {ids["a"]}
                backends.add(conn_a.execute("SELECT pg_backend_pid()").fetchone()[0])
                assert seen(conn_b, ids["b"]) == {ids["b"]}
                assert seen(conn_b, None) == set()
                backends.add(conn_b.execute("SELECT pg_backend_pid()").fetchone()[0])
                # a setting made by A's transaction is gone for B's next one
                assert conn_b.execute("SELECT current_setting('smarter.account_id', true)"
                                      ).fetchone()[0] in ("", None)
            assert len(backends) == 1  # the two clients really shared one server connection

        errors: list[str] = []

        def hammer(name: str) -> None:
            try:
                with client() as conn:
                    for _ in range(40):
                        got = seen(conn, ids[name])
                        if got != {ids[name]}:
                            errors.append(f"{name} saw {got}")
                        if seen(conn, None):
                            errors.append(f"{name} saw rows with no tenant")
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

        threads = [threading.Thread(target=hammer, args=(n,)) for n in ("a", "b", "a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []


# --- generated from the distribution check ------------------------------------------------------

def test_every_tenant_table_is_listed():
    labels = {_label(m) for m in TABLES}
    assert {"accounts.UserProfile", "accounts.AccountContact", "accounts.ApiKey",
            "accounts.HandoffToken", "accounts.Invitation", "audit.AuditEvent",
            "workspaces.Workspace", "domains.Domain", "domains.HostnameClaim",
            "lifecycle.DataExport"} <= labels


def test_check_is_clean_and_fails_for_a_tenant_table_without_its_policy(monkeypatch):
    assert check_wall_policies() == []
    walls = wall_policy.migrated_walls()
    walls.pop(("workspaces", "workspace"))
    walls[("accounts", "apikey")] = TenantWall("apikey")  # shares nothing: disagrees
    monkeypatch.setattr(wall_policy, "migrated_walls", lambda: walls)
    found = {(m.id, m.obj) for m in check_wall_policies()}
    assert ("tenancy.W110", Workspace) in found
    assert ("tenancy.W111", ApiKey) in found
    assert all(isinstance(m, checks.Warning) for m in check_wall_policies())


def test_check_fails_for_a_tenant_model_with_a_plain_manager(monkeypatch):
    monkeypatch.setattr(DataExport._meta, "default_manager", models.Manager())
    found = {(m.id, m.obj) for m in check_wall_policies()}
    assert ("tenancy.W112", DataExport) in found


def test_every_tenant_model_is_registered_once_and_nothing_else_is(monkeypatch):
    from tenancy import registry as tenant_registry

    assert check_registrations() == []
    assert set(TABLES) <= set(tenant_registry.registry)
    with pytest.raises(ImproperlyConfigured, match="registered as a tenant model twice"):
        tenant_registry.register(Workspace)

    entries = dict(tenant_registry.registry)
    del entries[Workspace]
    entries[RouterDomainRemoval] = tenant_registry.TenantModel(model=RouterDomainRemoval)  # no tenant key
    monkeypatch.setattr(wall_policy, "registry", entries)
    found = {(m.id, m.obj) for m in check_registrations()}
    assert found == {("tenancy.W113", Workspace), ("tenancy.W114", RouterDomainRemoval)}
    assert all(isinstance(m, checks.Warning) for m in check_registrations())


def test_the_permission_querysets_need_a_registered_owner(monkeypatch):
    from tenancy import registry as tenant_registry

    entries = dict(tenant_registry._registry)
    entries[Workspace] = tenant_registry.TenantModel(model=Workspace, audit=True)
    monkeypatch.setattr(tenant_registry, "_registry", entries)
    with pytest.raises(ImproperlyConfigured, match="names no permission_owner_field"):
        Workspace.objects.all()._owner_field()


def test_policies_for_citus_cover_every_tenant_table():
    sql = "\n".join(citus_policy_sql())
    for model in TABLES:
        table = model._meta.db_table
        assert f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY;" in sql
        assert f"CREATE POLICY tenant_wall ON {table} " in sql
    assert "CREATE POLICY tenant_shared_wall ON accounts_userprofile FOR SELECT" in sql


@postgres_only
@pytest.mark.django_db
def test_every_tenant_table_is_forced_and_has_its_policy():
    tables = {m._meta.db_table for m in TABLES}
    with connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity")
        forced = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT tablename FROM pg_policies WHERE policyname = 'tenant_wall'")
        walled = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        exempt = cursor.fetchone()[0]
    assert tables <= forced and tables <= walled
    assert exempt is False  # the suite's role is bound by the policies
    assert UserProfile._meta.db_table in walled


@pytest.mark.django_db
def test_distribution_plan_sql_emits_the_policies():
    import io

    out = io.StringIO()
    call_command("distribution_plan", "--sql", stdout=out)
    text = out.getvalue()
    assert "Row-level security (the database wall)" in text
    for model in TABLES:
        assert f"CREATE POLICY tenant_wall ON {model._meta.db_table} " in text
