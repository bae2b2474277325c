"""Distribution readiness (tenancy/distribution.py): the product's tenant tables could be
distributed by account_id; deliberately wrong models are reported by model and constraint;
on PostgreSQL the keys that make it so hold, and the planned statements apply in order."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, models, transaction
from django.test.utils import isolate_apps
from taggit.models import Tag

from accounts.models import (
    Account,
    AccountContact,
    ApiKey,
    DailyActiveMember,
    DailyUsage,
    HandoffToken,
    Invitation,
    UserProfile,
)
from api.models import IdempotentRequest
from audit.models import AuditEvent
from domains.models import Domain, HostnameClaim
from identity.emaildomains.models import EmailDomain
from identity.scim.models import ScimToken, ScimUser
from identity.sso.models import IdentityProvider
from lifecycle.models import DataExport
from routerdomains.models import RouterDomain, RouterDomainRemoval
from tenancy import distribution
from tenancy.citus import citus_script, citus_sql, citus_steps
from tenancy.context import tenant_context
from tenancy.distribution import DISTRIBUTED, LOCAL, REFERENCE, plan, warnings_for
from workspaces.models import Workspace

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="composite foreign keys exist on PostgreSQL only (SQLite cannot add them to a table)")


def test_every_product_tenant_table_can_be_distributed():
    result = plan()
    assert result.violations == []
    assert set(result.tables(DISTRIBUTED)) == {AccountContact, UserProfile, ApiKey, Workspace, Domain,
                                               Invitation, HandoffToken, AuditEvent, DataExport,
                                               RouterDomain, DailyUsage, DailyActiveMember,
                                               ScimToken, ScimUser,
                                               IdentityProvider, EmailDomain, IdempotentRequest}
    assert RouterDomainRemoval in result.tables(LOCAL)  # the platform's queue: no account column
    reference = result.tables(REFERENCE)
    assert {Account, User, Tag, HostnameClaim} <= set(reference)
    assert "before the account is known" in result.reasons[HostnameClaim]
    assert reference.index(Account) < reference.index(HostnameClaim)
    assert reference.index(User) < reference.index(UserProfile._meta.get_field("tags")
                                                    .remote_field.through)
    assert "django_session" in {m._meta.db_table for m in result.tables(LOCAL)}
    # a tenant table is distributed after the tenant tables it references
    distributed = result.tables(DISTRIBUTED)
    assert distributed.index(UserProfile) < distributed.index(Workspace)
    assert distributed.index(UserProfile) < distributed.index(ApiKey)
    assert distributed.index(Workspace) < distributed.index(Domain)


def test_check_and_plan_command_pass_on_the_product(db):
    out = io.StringIO()
    call_command("check", "--tag", "distribution", "--fail-level", "WARNING", stdout=out)
    assert "no issues" in out.getvalue()
    out = io.StringIO()
    call_command("distribution_plan", stdout=out)
    text = out.getvalue()
    assert "accounts_account " in text.split("Distributed by")[0]  # listed as a reference table
    assert "Every tenant table can be distributed by account_id." in text
    out = io.StringIO()
    call_command("distribution_plan", "--sql", stdout=out)
    assert out.getvalue() == citus_script(plan(), connection)


def _doc_script() -> str:
    """The SQL block of docs/SCALING.md that follows its ``distribution_plan --sql`` marker."""
    doc = (Path(__file__).resolve().parent.parent / "docs" / "SCALING.md").read_text()
    after = doc.split("<!-- the output of manage.py distribution_plan --sql -->", 1)[1]
    return after.split("```sql\n", 1)[1].split("```", 1)[0]


def test_the_docs_show_the_plans_script():
    """docs/SCALING.md shows the script the models give (no database): regenerate it with
    ``DATABASE_URL=sqlite:///x manage.py distribution_plan --sql`` when this fails."""
    assert _doc_script() == citus_script(plan())


def test_the_script_parses_with_postgresqls_parser_and_keeps_the_order_that_works():
    import pglast

    script = citus_script(plan())
    statements = citus_sql(plan())
    parsed = pglast.parse_sql(script)
    assert len(parsed) == len(statements) > 100
    for statement in statements:
        assert len(pglast.parse_sql(statement)) == 1, statement

    def at(fragment: str) -> int:
        assert fragment in script, fragment
        return script.index(fragment)

    assert "needs a superuser" in script.split("-- 2.")[0]
    assert at("SELECT citus_add_node(") < at("NO FORCE ROW LEVEL SECURITY")
    assert at("NO FORCE ROW LEVEL SECURITY") < at("DROP CONSTRAINT accounts_apikey_user_profile")
    assert at("DROP CONSTRAINT accounts_apikey_user_profile") < at("create_reference_table(")
    assert at("create_reference_table('domains_hostnameclaim')") < at("DROP CONSTRAINT "
                                                                      "accounts_apikey_pkey;")
    assert at("DROP CONSTRAINT accounts_apikey_pkey;") < at(
        "ALTER TABLE accounts_apikey ADD PRIMARY KEY (account_id, id);")
    assert "_pkey, ADD" not in script  # no ADD CONSTRAINT combined with other subcommands
    assert at("audit_auditevent ALTER COLUMN id DROP IDENTITY;") < at(
        "SET citus.enable_unsafe_triggers = on;") < at("create_distributed_table('audit_auditevent'")
    assert at("create_distributed_table('sso_identityprovider'") < at(
        "truncate_local_data_after_distributing_table('accounts_accountcontact')")
    assert at("truncate_local_data_after_distributing_table('sso_identityprovider')") < at(
        "SELECT setval(pg_get_serial_sequence('\"auth_user\"'")
    assert at("SELECT setval(pg_get_serial_sequence('\"accounts_apikey\"'") < at(
        "ADD CONSTRAINT accounts_apikey_account_id_user_prof")
    assert "FOREIGN KEY (account_id, user_profile_id) REFERENCES accounts_userprofile(account_id, id)" \
        in script
    assert "REFERENCES accounts_userprofile(id)" not in script.split("-- 10.")[1]
    last = script.split("-- 11.")[1]
    assert "ALTER TABLE workspaces_workspace FORCE ROW LEVEL SECURITY;" in last
    assert "CREATE POLICY tenant_wall ON workspaces_workspace" in last


@pytest.fixture
def wrong_models():  # type: ignore[no-untyped-def]
    """Tenant-owned models that break each rule, in an isolated app registry."""
    with isolate_apps("tests"):

        class Badge(models.Model):  # noqa: DJ008
            account = models.ForeignKey(Account, on_delete=models.CASCADE)
            code = models.CharField(max_length=20, unique=True)  # unique across tenants
            label = models.CharField(max_length=20)
            holders = models.ManyToManyField(User)  # its through table: no account_id

            class Meta:
                app_label = "tests"
                constraints = [models.UniqueConstraint(fields=["label"], name="badge_label")]

        class BadgeNote(models.Model):  # noqa: DJ008  # joins a tenant table, has no account_id
            badge = models.ForeignKey(Badge, on_delete=models.CASCADE)

            class Meta:
                app_label = "tests"

        class Award(models.Model):  # noqa: DJ008  # tenant-owned, but Badge has no unique (account, id)
            account = models.ForeignKey(Account, on_delete=models.CASCADE)
            badge = models.ForeignKey(Badge, on_delete=models.CASCADE)

            class Meta:
                app_label = "tests"

        class Sticker(models.Model):  # noqa: DJ008  # fine: per-account uniqueness, owner with account
            account = models.ForeignKey(Account, on_delete=models.CASCADE)
            owner = models.ForeignKey(UserProfile, on_delete=models.CASCADE)
            code = models.CharField(max_length=20)

            class Meta:
                app_label = "tests"
                constraints = [models.UniqueConstraint(fields=["account", "code"],
                                                       name="sticker_code")]

        through = Badge._meta.get_field("holders").remote_field.through
        yield {"Badge": Badge, "BadgeNote": BadgeNote, "Award": Award, "Sticker": Sticker,
               "through": through}


def test_wrong_models_are_reported_by_model_and_constraint(wrong_models):
    m = wrong_models
    result = plan(m.values())
    found = {(v.model._meta.label, v.constraint, v.id) for v in result.violations}
    assert found == {
        ("tests.Badge", "unique field 'code'", "tenancy.W101"),
        ("tests.Badge", "constraint 'badge_label'", "tenancy.W101"),
        (m["through"]._meta.label, "foreign key 'badge'", "tenancy.W103"),
        ("tests.BadgeNote", "foreign key 'badge'", "tenancy.W103"),
        ("tests.Award", "foreign key 'badge'", "tenancy.W104"),
    }
    assert result.roles[m["Sticker"]] == DISTRIBUTED
    assert result.roles[m["BadgeNote"]] == LOCAL
    warnings = warnings_for(result)
    assert len(warnings) == len(result.violations)
    assert any(w.obj is m["Badge"] and w.id == "tenancy.W101" and "'code'" in w.msg
               and "tests.Badge" in str(w) for w in warnings)


def test_a_declared_reference_table_is_planned_as_one(wrong_models):
    badge = wrong_models["Badge"]
    badge.distribution_reference_reason = "badge codes are global"
    try:
        result = plan([badge, wrong_models["Sticker"]])
    finally:
        del badge.distribution_reference_reason
    assert result.roles[badge] == REFERENCE
    assert result.reasons[badge] == "badge codes are global"
    assert not [v for v in result.violations if v.model is badge and v.id == "tenancy.W101"]


def test_plan_command_fails_naming_the_model(wrong_models, monkeypatch):
    from tenancy.management.commands import distribution_plan

    monkeypatch.setattr(distribution_plan, "plan", lambda: plan(wrong_models.values()))
    err = io.StringIO()
    with pytest.raises(CommandError, match="5 violations"):
        call_command("distribution_plan", stdout=io.StringIO(), stderr=err)
    assert "violation: tests.Badge: unique field 'code'" in err.getvalue()
    assert "violation: tests.BadgeNote: foreign key 'badge'" in err.getvalue()


@postgres_only
def test_owned_rows_stay_in_their_owners_account(tenant_a, tenant_b):
    space = Workspace.objects.create(user_profile=tenant_a.admin, name="mine")
    key, _ = ApiKey.create(tenant_a.admin, "ci")
    for model, pk in ((Workspace, space.pk), (ApiKey, key.pk)):
        with pytest.raises(IntegrityError, match="owner_same_account"), transaction.atomic():
            model.objects.filter(pk=pk).update(account=tenant_b.account)
            connection.check_constraints()  # the keys are deferred to commit otherwise


@postgres_only
def test_a_domain_serves_only_a_workspace_of_its_account(tenant_a, tenant_b):
    """The composite key (account_id, workspace_id) -> workspace (account_id, id) holds what
    Domain.save() checks, also for writes that bypass it."""
    theirs = Workspace.objects.create(user_profile=tenant_b.admin, name="theirs")
    domain = Domain(hostname="app.alpha-corp.test", user_profile=tenant_a.admin)
    domain.save()
    with pytest.raises(IntegrityError, match="workspace_same_account"), transaction.atomic():
        Domain.objects.filter(pk=domain.pk).update(workspace=theirs)
        connection.check_constraints()
    with pytest.raises(IntegrityError, match="owner_same_account"), transaction.atomic():
        Domain.objects.filter(pk=domain.pk).update(user_profile=tenant_b.admin)
        connection.check_constraints()
    mine = Workspace.objects.create(user_profile=tenant_a.admin, name="mine")
    Domain.objects.filter(pk=domain.pk).update(workspace=mine)
    connection.check_constraints()
    mine.delete()  # Django sets the domain's workspace to NULL first: the key allows that
    connection.check_constraints()
    domain.refresh_from_db()
    assert domain.workspace_id is None


def test_api_key_prefixes_are_unique_per_account(tenant_a, tenant_b):
    key, _ = ApiKey.create(tenant_a.admin, "one")
    ApiKey.objects.create(user_profile=tenant_b.admin, name="same prefix", prefix=key.prefix,
                          key_hash="0" * 64)  # another account: allowed
    with pytest.raises(IntegrityError), transaction.atomic():
        ApiKey.objects.create(user_profile=tenant_a.admin, name="clash", prefix=key.prefix,
                              key_hash="1" * 64)


@postgres_only
def test_djangos_foreign_key_names_are_the_databases(db):
    """The script from the models drops the keys migrate created, by their names; the
    database adds only the composite keys migrations wrote outside the models."""
    from_models = set(citus_steps(plan())[2].statements)
    from_database = set(citus_steps(plan(), connection)[2].statements)
    assert from_models <= from_database
    extra = from_database - from_models
    assert extra and all("same_account" in s or "domain_claim" in s for s in extra), extra


@postgres_only
def test_the_scripts_postgresql_statements_run_and_the_app_still_works(tenant_a, tenant_b):
    """Every step but the Citus calls, on this (migrated) database, in one transaction
    rolled back at the end: the keys, primary keys, sequences and policies apply in this
    order, ids continue after the largest, and the re-added composite keys hold."""
    before = Workspace.objects.create(user_profile=tenant_a.admin, name="before")
    steps = citus_steps(plan(), connection)
    statements = [s for step in steps if not step.citus for s in step.statements]
    assert not any("<" in s for s in statements)
    with pytest.raises(RuntimeError, match="rolled back"), transaction.atomic():
        connection.check_constraints()  # no pending trigger events before ALTER TABLE
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
            cursor.execute("SELECT count(*) FROM information_schema.columns WHERE "
                           "table_name = 'workspaces_workspace' AND is_identity = 'YES'")
            assert cursor.fetchone()[0] == 0
        with tenant_context(tenant_a.account.pk):
            after = Workspace.objects.create(user_profile=tenant_a.admin, name="after")
            assert after.pk > before.pk
            assert Workspace.objects.filter(pk__in=[before.pk, after.pk]).count() == 2
        with pytest.raises(IntegrityError, match="same_account"), transaction.atomic():
            Workspace.objects.filter(pk=after.pk).update(account=tenant_b.account)
            connection.check_constraints()
        raise RuntimeError("rolled back")


def test_check_is_registered_under_its_tag():
    from django.core import checks

    assert distribution.check_distribution in checks.registry.registry.get_checks()
    assert checks.registry.registry.tag_exists(distribution.CHECK_TAG)
