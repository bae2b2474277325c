"""Management commands: idempotent initialisation, clear errors, no secrets printed."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models.signals import post_save
from django.test import override_settings

from accounts.models import Account, AccountContact, UserProfile
from accounts.signals import user_profile_created
from tenancy.cache import tenant_cache

User = get_user_model()
ROOT = Path(__file__).resolve().parent.parent
NUMBER_RE = re.compile(r"^[0-9]{4}-[0-9]{4}-[0-9]{4}$")
SECRET = "Platform-Admin-Secret-4711"


def run(*args: str, **options: object) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out, **options)
    return out.getvalue()


def counts() -> tuple[int, ...]:
    return (
        Account.objects.count(), User.objects.count(),
        UserProfile.objects.count(), AccountContact.objects.count(),
    )


# --- initialize_platform ---------------------------------------------------------------
@pytest.mark.django_db
@override_settings(PLATFORM_ADMIN_PASSWORD=SECRET)
def test_initialize_platform_creates_then_is_a_no_op():
    first = run("initialize_platform", "--no-input")
    assert "created" in first and SECRET not in first
    account = Account.objects.get(is_default_account=True)
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff and admin.check_password(SECRET)
    assert UserProfile.objects.get(user=admin, account=account).role == UserProfile.ROLE_ADMIN
    before = counts()
    password_hash = admin.password

    writes, profiles = [], []

    def on_save(sender, created, **kwargs):
        writes.append((sender.__name__, created))

    def on_profile(**kwargs):
        profiles.append(kwargs)

    post_save.connect(on_save, dispatch_uid="h1-init")
    user_profile_created.connect(on_profile, dispatch_uid="h1-init")
    try:
        second = run("initialize_platform", "--no-input")
    finally:
        post_save.disconnect(dispatch_uid="h1-init")
        user_profile_created.disconnect(dispatch_uid="h1-init")
    assert counts() == before
    assert writes == [] and profiles == []
    assert "already present" in second and "created" not in second
    assert SECRET not in second and "password" not in second.lower()
    assert User.objects.get(pk=admin.pk).password == password_hash


@pytest.mark.django_db
@override_settings(PLATFORM_ADMIN_PASSWORD="")
def test_initialize_platform_without_password_prints_none():
    out = run("initialize_platform", "--no-input", username="root", email="root@example.com")
    root = User.objects.get(username="root")
    assert root.is_superuser and not root.has_usable_password()
    assert "changepassword root" in out
    assert root.password not in out
    again = run("initialize_platform", "--no-input", username="root")
    assert "changepassword" not in again and "already present" in again


@pytest.mark.django_db
def test_initialize_platform_keeps_an_existing_default_account(platform):
    before = counts()
    out = run("initialize_platform", "--no-input", username="platform-admin")
    assert platform.account.account_number in out
    assert counts() == before


@pytest.mark.django_db
def test_initialize_platform_refuses_to_promote_an_existing_user(tenant_a):
    with pytest.raises(CommandError, match="not a superuser"):
        run("initialize_platform", "--no-input", username="alpha-member")
    assert not User.objects.get(username="alpha-member").is_superuser


# --- create_account --------------------------------------------------------------------
@pytest.mark.django_db
def test_create_account_prints_its_number():
    out = run("create_account", "Acme Inc").strip()
    assert NUMBER_RE.match(out)
    account = Account.objects.get(account_number=out)
    assert account.company_name == "Acme Inc" and account.is_active
    assert not account.is_default_account
    inactive = run("create_account", "Sleepy", "--inactive").strip()
    assert not Account.objects.get(account_number=inactive).is_active


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["", "   ", "x" * 256])
def test_create_account_rejects_bad_names(name):
    with pytest.raises(CommandError):
        run("create_account", name)
    assert not Account.objects.exists()


@pytest.mark.django_db
def test_create_account_needs_a_name():
    with pytest.raises(CommandError, match="company_name"):
        run("create_account")


# --- create_user -----------------------------------------------------------------------
@pytest.mark.django_db
def test_create_user_creates_an_admin_with_the_password_from_the_environment(
    tenant_a, monkeypatch
):
    monkeypatch.setenv("NEW_USER_PASSWORD", "Very-Secret-Password-99")
    number = tenant_a.account.account_number
    out = run("create_user", "carol", account=number, email="carol@alpha.test", admin=True)
    assert out.strip() == f"created carol in {number} as admin"
    assert "Very-Secret-Password-99" not in out
    carol = User.objects.get(username="carol")
    assert carol.check_password("Very-Secret-Password-99")
    assert not carol.is_superuser and not carol.is_staff  # the role makes her an admin
    profile = UserProfile.objects.get(user=carol, account=tenant_a.account)
    assert profile.role == UserProfile.ROLE_ADMIN
    assert AccountContact.objects.filter(account=tenant_a.account, email="carol@alpha.test").exists()


@pytest.mark.django_db
def test_create_user_adds_an_existing_user_and_reads_a_named_variable(
    tenant_a, tenant_b, monkeypatch
):
    monkeypatch.delenv("NEW_USER_PASSWORD", raising=False)
    monkeypatch.setenv("DAVE_PW", "Another-Long-Password-7")
    number_a, number_b = tenant_a.account.account_number, tenant_b.account.account_number
    out = run("create_user", "dave", "--account", number_a, "--password-env", "DAVE_PW")
    assert out.strip() == f"created dave in {number_a} as member"
    assert User.objects.get(username="dave").check_password("Another-Long-Password-7")
    monkeypatch.delenv("DAVE_PW")
    out = run("create_user", "dave", "--account", number_b, "--existing")
    assert out.strip() == f"added dave in {number_b} as member"
    dave = User.objects.get(username="dave")
    assert dave.check_password("Another-Long-Password-7")  # not reset without a password
    assert set(dave.user_profile.values_list("account_id", flat=True)) == {
        tenant_a.account.pk, tenant_b.account.pk
    }


@pytest.mark.django_db
def test_create_user_refuses_an_existing_user_unless_asked_and_audits_a_reset(
    tenant_a, tenant_b, monkeypatch
):
    from audit.models import AuditEvent

    monkeypatch.setenv("NEW_USER_PASSWORD", "Attacker-Chosen-Password-1")
    member = tenant_a.member.user
    number_a, number_b = tenant_a.account.account_number, tenant_b.account.account_number
    before = counts()
    for args, message in [
        ([member.username, "--account", number_b], "already exists; pass --existing"),
        ([member.username.upper(), "--account", number_b], "already exists; pass --existing"),
        ([member.username, "--account", number_b, "--existing"], "pass --reset-password"),
        ([member.username, "--account", number_a, "--existing", "--reset-password", "--password-env",
          "UNSET_PW"], "needs the new password"),
        (["newcomer", "--account", number_a, "--reset-password"], "existing user only"),
    ]:
        with pytest.raises(CommandError, match=re.escape(message)):
            run("create_user", *args)
    assert counts() == before
    member.refresh_from_db()
    assert member.check_password("correct-horse-battery-staple")  # never silently reset
    # A duplicate is reported with a non-zero exit, not rc=0 silence.
    monkeypatch.delenv("NEW_USER_PASSWORD")
    with pytest.raises(CommandError, match="already a member"):
        run("create_user", member.username, "--account", number_a, "--existing")
    # Asked for explicitly: reset, and audited as the command.
    monkeypatch.setenv("NEW_USER_PASSWORD", "Operator-Chosen-Password-2")
    out = run("create_user", member.username, "--account", number_a, "--existing", "--reset-password")
    assert out.strip().endswith("(password reset)")
    member.refresh_from_db()
    assert member.check_password("Operator-Chosen-Password-2")
    event = AuditEvent.objects.get(action="user.password_reset")
    assert (event.account_id, event.target_id, event.source, event.source_label) == (
        tenant_a.account.pk, str(member.pk), "command", "create_user")


def test_create_user_duplicate_exits_non_zero(tmp_path):
    skip = ("DATABASE_URL", "DATABASE_POOL", "NEW_USER_PASSWORD")  # its own SQLite file, no pooler
    env = {k: v for k, v in os.environ.items() if k not in skip}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", DJANGO_SETTINGS_MODULE="smarter.settings")

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)

    assert manage("migrate", "-v0").returncode == 0
    number = manage("create_account", "Dup Corp").stdout.strip()
    assert manage("create_user", "dup", "--account", number).returncode == 0
    again = manage("create_user", "dup", "--account", number)
    assert again.returncode != 0 and "already exists" in again.stderr


@pytest.mark.django_db
def test_create_user_without_password_gets_an_unusable_one(tenant_a, monkeypatch):
    monkeypatch.delenv("NEW_USER_PASSWORD", raising=False)
    run("create_user", "erin", account=tenant_a.account.account_number)
    assert not User.objects.get(username="erin").has_usable_password()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bob", "--account", "not-a-number"], "not an account number"),
        (["bob", "--account", "1234-5678-9012\n"], "not an account number"),
        (["bob", "--account", "0000-0000-0000"], "No account"),
        (["   ", "--account", "{number}"], "must not be empty"),
        (["bad user!", "--account", "{number}"], "invalid username"),
        (["x" * 151, "--account", "{number}"], "invalid username"),
        (["bob", "--account", "{number}", "--email", "not-an-email"], "invalid --email"),
        (["bob"], "--account"),
    ],
)
def test_create_user_rejects_bad_input(tenant_a, monkeypatch, args, message):
    monkeypatch.delenv("NEW_USER_PASSWORD", raising=False)
    before = counts()
    args = [a.replace("{number}", tenant_a.account.account_number) for a in args]
    with pytest.raises(CommandError, match=re.escape(message)):
        run("create_user", *args)
    assert counts() == before


@pytest.mark.django_db
def test_create_user_rejects_a_weak_password_without_printing_it(tenant_a, monkeypatch):
    monkeypatch.setenv("NEW_USER_PASSWORD", "12345")
    with pytest.raises(CommandError, match="too weak") as info:
        run("create_user", "frank", account=tenant_a.account.account_number)
    assert "12345" not in str(info.value)
    assert not User.objects.filter(username="frank").exists()


# --- reset_cache -----------------------------------------------------------------------
@pytest.mark.django_db
def test_reset_cache_clears_both_levels(tenant_a):
    from accounts.utils import get_cached_account_by_number

    number = tenant_a.account.account_number
    get_cached_account_by_number(number)
    cache.set("h1-probe", "x")
    assert len(tenant_cache.l1) > 0
    assert run("reset_cache").strip() == "cache cleared"
    assert cache.get("h1-probe") is None
    assert len(tenant_cache.l1) == 0
    assert get_cached_account_by_number(number) == tenant_a.account


def test_reset_cache_fails_loudly_when_the_cache_is_down(monkeypatch):
    def broken() -> None:
        raise ConnectionError("Connection refused")

    monkeypatch.setattr(cache, "clear", broken)
    with pytest.raises(CommandError, match="could not clear the cache: ConnectionError"):
        run("reset_cache")


# --- a real process: exit codes --------------------------------------------------------
def test_manage_py_exit_codes(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATABASE_POOL", "REDIS_URL"}}
    env.update(
        DJANGO_SETTINGS_MODULE="smarter.settings", DEBUG="true",
        DATABASE_URL=f"sqlite:///{tmp_path / 'cmd.sqlite3'}", PLATFORM_ADMIN_PASSWORD=SECRET,
        LOG_LEVEL="WARNING",
    )

    def manage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
            text=True, timeout=120,
        )

    assert manage("migrate", "--noinput", "-v0").returncode == 0
    first = manage("initialize_platform", "--no-input")
    second = manage("initialize_platform", "--no-input")
    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    assert "created" in first.stdout and "already present" in second.stdout
    assert SECRET not in first.stdout + first.stderr + second.stdout + second.stderr
    bad = manage("create_user", "bob", "--account", "not-a-number")
    assert bad.returncode != 0
    assert "not an account number" in bad.stderr and "Traceback" not in bad.stderr
    empty = manage("create_account", "  ")
    assert empty.returncode != 0 and "must not be empty" in empty.stderr


def test_every_project_command_opens_the_wall_itself():
    """``call_command`` of a project command runs in platform mode and as its own operation,
    whatever the caller's mode (the explicit base in tenancy.commands, not a patch)."""
    from django.apps import apps
    from django.core.management import get_commands, load_command_class

    from tenancy.commands import PlatformCommandMixin

    ours = {app.name for app in apps.get_app_configs() if (ROOT / app.name.replace(".", "/")).is_dir()}
    commands = {name: app for name, app in get_commands().items() if app in ours}
    assert {"create_account", "db_worker", "flush", "import_account"} <= set(commands)
    for name, app in commands.items():
        assert isinstance(load_command_class(app, name), PlatformCommandMixin), name


def test_manage_py_runs_any_command_in_platform_mode(tmp_path):
    """Django's own commands too (shell here): an operator's session sees every tenant's
    rows, and says so."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", DJANGO_SETTINGS_MODULE="smarter.settings")
    code = "from tenancy.wall import current_wall; w = current_wall(); print(w.platform, w.reason)"
    done = subprocess.run([sys.executable, "manage.py", "shell", "-v", "0", "-c", code], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "command", "shell"]


def test_create_user_records_the_address_the_operator_vouches_for(tenant_a, monkeypatch):
    from allauth.account.models import EmailAddress

    monkeypatch.setenv("NEW_USER_PASSWORD", "Very-Secret-Password-99")
    number = tenant_a.account.account_number
    run("create_user", "dora", account=number, email="Dora@Alpha.test")
    (address,) = EmailAddress.objects.filter(user__username="dora")
    assert (address.email, address.verified, address.primary) == ("Dora@Alpha.test", True, True)
    # another user may not take it, whatever its case; nothing is created then
    with pytest.raises(CommandError, match="belongs to another user"):
        run("create_user", "eve", account=number, email="dora@alpha.test")
    assert not User.objects.filter(username="eve").exists()
    run("create_user", "fred", account=number)  # no --email: no address
    assert not EmailAddress.objects.filter(user__username="fred").exists()
