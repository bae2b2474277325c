"""The router-domain lifecycle with the real task worker: tasks are queued in the database and
``manage.py db_worker`` runs them (a separate process on PostgreSQL; in-process on the embedded
SQLite, whose test database is private to this process), against the local Heroku API."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from accounts.models import Account
from domains.models import Domain
from lifecycle.closure import close_account
from lifecycle.tasks import purge_closed_account
from routerdomains.models import RouterDomain, RouterDomainRemoval
from routerdomains.provisioning import workspace_wildcard
from tests.support.domain_support import verified_domain
from tests.support.heroku_api import heroku_api  # noqa: F401 - fixture

pytestmark = pytest.mark.services  # starts throwaway servers or processes: slow

ROOT = Path(__file__).resolve().parent.parent
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
WORKER = ["db_worker", "--batch", "--no-startup-delay", "--interval", "0"]


def run_worker(api) -> None:  # type: ignore[no-untyped-def]
    """Run every queued task to the end with the real worker."""
    if connection.vendor != "postgresql":
        call_command(*WORKER)
        return
    url = urlparse(os.environ["DATABASE_URL"])._replace(path="/" + connection.settings_dict["NAME"])
    env = {**os.environ, "DATABASE_URL": url.geturl(), "TASKS_BACKEND": "database",
           "ROUTER_DOMAIN_PROVIDER": "heroku", "HEROKU_API_URL": api.url,
           "HEROKU_API_TOKEN": api.token, "HEROKU_APP_NAME": api.app}
    done = subprocess.run([sys.executable, "manage.py", *WORKER], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert api.token not in done.stdout + done.stderr


def queued() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(status="READY").count()


def state(account: Account, hostname: str) -> str:
    return RouterDomain.objects.get(account=account, hostname=hostname).state


def make_due() -> None:
    past = timezone.now() - timedelta(seconds=1)
    RouterDomain.objects.exclude(next_attempt_at=None).update(next_attempt_at=past)
    RouterDomainRemoval.objects.update(next_attempt_at=past)


@pytest.mark.django_db(transaction=True)
def test_account_and_custom_domain_lifecycles_through_the_worker(platform, heroku_api, make_tenant):  # noqa: F811
    api = heroku_api
    with override_settings(TASKS=DB_TASKS):
        api.fail_next(429, Retry_After="1")  # the first call is rate-limited
        alpha, bravo = make_tenant("alpha"), make_tenant("bravo")
        wild_a = workspace_wildcard(alpha.account.account_number)
        wild_b = workspace_wildcard(bravo.account.account_number)
        assert state(alpha.account, wild_a) == "queued" and api.requests == []
        assert queued() >= 2  # nothing ran in-process
        run_worker(api)
        assert queued() == 0
        states = {state(alpha.account, wild_a), state(bravo.account, wild_b)}
        assert "failed" in states and "added" in states  # one of them met the 429
        make_due()
        call_command("check_domains")  # the scheduled re-check: retry, then the certificates
        make_due()
        call_command("check_domains")
        make_due()
        call_command("check_domains")
        assert state(alpha.account, wild_a) == state(bravo.account, wild_b) == "issued"

        # custom domains: added when verified, removed when deleted
        verified_domain(alpha.admin, "app.alpha.test")
        verified_domain(bravo.admin, "app.bravo.test")
        assert "app.alpha.test" not in api.hostnames()
        run_worker(api)
        assert {"app.alpha.test", "app.bravo.test"} <= api.hostnames()
        Domain.objects.get(hostname="app.bravo.test").delete()
        assert "app.bravo.test" in api.hostnames()  # queued for the worker
        run_worker(api)
        assert "app.bravo.test" not in api.hostnames()
        assert not RouterDomainRemoval.objects.exists()

        # the purge of Alpha takes its hosts off the router, and only those
        close_account(alpha.account)
        Account.objects.filter(pk=alpha.account.pk).update(closed_at=timezone.now() - timedelta(days=40))
        purge_closed_account.enqueue(alpha.account.pk)
        run_worker(api)
        if RouterDomainRemoval.objects.exists():  # the purge's removals queued by the worker
            run_worker(api)
        assert not Account.objects.filter(pk=alpha.account.pk).exists()
        left = api.hostnames()
        assert wild_a not in left and "app.alpha.test" not in left
        assert wild_b in left
        assert RouterDomain.objects.filter(account=bravo.account).count() == 1
        assert all(ok for _, _, ok in api.requests)


@pytest.mark.django_db(transaction=True)
def test_the_none_provider_through_the_worker_calls_nothing(platform, heroku_api, make_tenant, settings):  # noqa: F811
    settings.ROUTER_DOMAIN_PROVIDER = "none"
    with override_settings(TASKS=DB_TASKS):
        alpha = make_tenant("alpha")
        verified_domain(alpha.admin, "app.alpha.test")
        assert queued() == 0  # nothing to do for a worker
        assert set(RouterDomain.objects.filter(account=alpha.account).values_list("state", flat=True)) == {
            "manual"}
        Domain.objects.get(hostname="app.alpha.test").delete()
        assert not RouterDomainRemoval.objects.exists() and queued() == 0
    assert heroku_api.requests == []
