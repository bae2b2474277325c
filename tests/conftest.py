"""Shared fixtures: clean caches per test, a platform, tenants, members and host clients."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client

from accounts.models import Account, UserProfile
from accounts.provisioning import add_member, ensure_default_account
from tenancy import wall
from tenancy.cache import tenant_cache
from tenancy.hosts import tenant_host
from tests.support.services import WALL_ROLE, use_unprivileged_role

PASSWORD = "correct-horse-battery-staple"

# The test process is not a web request: like a management command, it works in the database
# wall's explicit platform mode (tenancy.wall). Requests made through the test client set
# their tenant's mode; threads a test starts begin with no mode (no tenant rows).
wall.enter_platform("test process")


@pytest.fixture(scope="session", autouse=True)
def _child_process_environment() -> None:
    """What the processes a test starts (gunicorn, workers, commands) find in the environment.
    They run on the project's real settings, as an operator's would (pytest-django exported
    tests.settings; one that wants the suite's overrides names it itself). Under pytest-xdist
    what a test names after the run's database (``<name>_race``, a fresh
    ``<name>_deploy_test``...) and the Redis database are this worker's own. Set in the
    processes that run tests only: xdist's workers inherit the environment of the process
    that starts them."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "smarter.settings"
    database_url = os.environ.get("DATABASE_URL", "")
    if settings.XDIST_WORKER and database_url.startswith("postgres"):
        url = urlparse(database_url)
        os.environ["DATABASE_URL"] = url._replace(path=f"{url.path}_{settings.XDIST_WORKER}").geturl()
    if settings.REDIS_URL:
        os.environ["REDIS_URL"] = settings.REDIS_URL


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):  # type: ignore[no-untyped-def]
    """On PostgreSQL the suite connects as a role that row-level security binds (not a
    superuser, no BYPASSRLS: ``tests.support.services.WALL_ROLE``), which creates and so owns the
    test database and its tables, like the single owner role of a Heroku database. A
    superuser would pass through every policy and the wall would go untested."""
    use_unprivileged_role(settings.DATABASES["default"], WALL_ROLE)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):  # type: ignore[no-untyped-def]
    """pytest-django's test database; through a transaction-mode pooler
    (``DATABASE_POOL=pgbouncer``) the pooler's idle server connections to it are ended before
    pytest-django drops it (DROP DATABASE refuses while any connection is open)."""
    yield
    if settings.DATABASE_POOL != "pgbouncer":
        return
    with django_db_blocker.unblock():
        name = connection.settings_dict["NAME"]
        connection.close()
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s AND pid <> pg_backend_pid()", [name])


@pytest.fixture(autouse=True)
def _private_media_root(settings, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    """Files the suite stores (data exports) go to a temporary MEDIA_ROOT, not the checkout."""
    settings.MEDIA_ROOT = tmp_path_factory.getbasetemp() / "media"


@pytest.fixture(autouse=True)
def _clean_caches() -> Iterator[None]:
    """Each test starts with empty caches: the database is rolled back between tests."""
    cache.clear()
    tenant_cache.clear_local()
    yield
    tenant_cache.clear_local()


@dataclass
class Tenant:
    """An account with an admin and a member, for tests."""

    account: Account
    admin: UserProfile
    member: UserProfile

    @property
    def host(self) -> str:
        return tenant_host(self.account.account_number)

    def workspace_host(self, name: str) -> str:
        return tenant_host(self.account.account_number, name)


@pytest.fixture
def platform(db) -> Tenant:  # type: ignore[no-untyped-def]
    """The default account with its superuser admin and a member."""
    account, _ = ensure_default_account()
    admin, _ = add_member(account, "platform-admin", email="root@example.com",
                          password=PASSWORD, superuser=True)
    member, _ = add_member(account, "platform-member", email="pm@example.com", password=PASSWORD)
    return Tenant(account, admin, member)


@pytest.fixture
def make_tenant(db, platform) -> Callable[[str], Tenant]:  # type: ignore[no-untyped-def]
    """Factory: ``make_tenant("acme")`` makes account Acme with acme-admin and acme-member."""

    def make(slug: str, **account_fields: object) -> Tenant:
        account = Account.objects.create(company_name=f"{slug.title()} Corp", **account_fields)
        admin, _ = add_member(account, f"{slug}-admin", email=f"admin@{slug}.test",
                              password=PASSWORD, admin=True)
        member, _ = add_member(account, f"{slug}-member", email=f"member@{slug}.test",
                               password=PASSWORD)
        return Tenant(account, admin, member)

    return make


@pytest.fixture
def tenant_a(make_tenant) -> Tenant:  # type: ignore[no-untyped-def]
    return make_tenant("alpha")


@pytest.fixture
def tenant_b(make_tenant) -> Tenant:  # type: ignore[no-untyped-def]
    return make_tenant("bravo")


def host_client(host: str, user: object | None = None) -> Client:
    """A test client whose every request carries ``Host: host`` (signed in as ``user``)."""
    client = Client(HTTP_HOST=host)
    if user is not None:
        client.force_login(user)  # type: ignore[arg-type]
    return client
