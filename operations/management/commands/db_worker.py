"""``manage.py db_worker``: django-tasks-db's worker with a heartbeat (``operations.heartbeat``)
that also retries or fails the tasks whose worker died (:mod:`tenancy.stale_tasks`): at
start-up, and every ``TASKS_REAP_INTERVAL`` seconds from a daemon thread while it runs (not in
``--batch`` mode, which reaps once and exits after the queue).

This app is listed before ``django_tasks_db`` in ``INSTALLED_APPS``, so this command is the
one ``manage.py`` runs; options and behaviour are otherwise the library's. Sentry and
OpenTelemetry are set up first when configured (``operations.observability``).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands.db_worker import Command as LibraryCommand

from operations.checks import refuse_unsafe_production
from operations.heartbeat import heartbeat
from operations.observability import setup_worker
from operations.runtime_role import use_runtime_role
from tenancy.commands import PlatformCommandMixin
from tenancy.stale_tasks import reap_stale_tasks
from tenancy.wall import enter_platform

logger = logging.getLogger("tenancy.stale_tasks")


def _reap_forever(interval: float) -> None:
    enter_platform("the stale-task reaper: every account's tasks and their exports")
    while True:
        time.sleep(interval)
        try:
            reap_stale_tasks()
        except Exception:  # noqa: BLE001 - a database hiccup must not end the reaper
            logger.exception("reaping stale tasks failed; trying again in %s s", interval)
        finally:
            connection.close()


class Command(PlatformCommandMixin, LibraryCommand):
    help = "Run the task worker; retries or fails tasks whose worker died"

    def handle(self, *args: Any, **options: Any) -> None:
        use_runtime_role()  # RUNTIME_DATABASE_URL, when set: the two-role layout
        refuse_unsafe_production("worker")  # DEBUG off on an unsafe set-up: one line each, exit
        setup_worker()  # Sentry and traces, when configured (as in the web processes)
        reap_stale_tasks()
        if not options.get("batch"):
            threading.Thread(target=_reap_forever, args=(settings.TASKS_REAP_INTERVAL,),
                             name="stale-task-reaper", daemon=True).start()
        with heartbeat(options["worker_id"]):
            super().handle(*args, **options)
