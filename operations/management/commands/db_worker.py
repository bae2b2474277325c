"""``manage.py db_worker``: django-tasks-db's worker with a heartbeat (``operations.heartbeat``)
that survives its database going away, and retries or fails the tasks whose worker died
(:mod:`tenancy.stale_tasks`): at start-up, and every ``TASKS_REAP_INTERVAL`` seconds from a
daemon thread while it runs (not in ``--batch`` mode, which reaps once and exits after the queue).

When the database fails under it (refused connections, a restart, ``too many connections for
role``), the worker does not exit: it says so in one log line and in its heartbeat (state
``degraded``, which ``/healthz`` reports), tries again with a growing pause
(``WORKER_RECONNECT_MIN`` .. ``WORKER_RECONNECT_MAX`` seconds), says so again when the
database answers, hands back the task it was in the middle of (retried: its result could not
be recorded) and resumes. Other errors still end it.

This app is listed before ``django_tasks_db`` in ``INSTALLED_APPS``, so this command is the
one ``manage.py`` runs; options are the library's. Sentry and OpenTelemetry are set up first
when configured (``operations.observability``).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands.db_worker import Command as LibraryCommand
from django_tasks_db.management.commands.db_worker import Worker

from middleware.outage import describe
from operations.checks import refuse_unsafe_production
from operations.heartbeat import WorkerStatus, heartbeat, live_worker_ids
from operations.observability import setup_worker
from operations.runtime_role import use_runtime_role
from tenancy.commands import PlatformCommandMixin
from tenancy.stale_tasks import reap_stale_tasks, release_tasks_of
from tenancy.wall import enter_platform

logger = logging.getLogger("tenancy.stale_tasks")
worker_logger = logging.getLogger("operations.worker")

#: What a lost or refused database connection raises through Django (psycopg's errors wrapped).
CONNECTION_ERRORS = (OperationalError, InterfaceError)


def reap(worker_id: str | None = None) -> tuple[int, int]:
    """One reaping pass: tasks whose worker's heartbeat stopped, or past the running timeout."""
    return reap_stale_tasks(live_workers=live_worker_ids() | ({worker_id} if worker_id else set()))


def _reap_forever(interval: float, worker_id: str) -> None:
    enter_platform("the stale-task reaper: every account's tasks and their exports")
    while True:
        time.sleep(interval)
        try:
            reap(worker_id)
        except DatabaseError as exc:  # the main loop reports the outage; one line here
            logger.warning("reaping stale tasks failed (%s); trying again in %s s",
                           exc.__class__.__name__, interval)
        except Exception:  # noqa: BLE001 - a bug must not end the reaper either
            logger.exception("reaping stale tasks failed; trying again in %s s", interval)
        finally:
            connection.close()


class ResilientWorker(Worker):
    """The library's worker loop, restarted after the database comes back."""

    def __init__(self, *, status: WorkerStatus, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.status = status

    def run(self) -> None:
        while self.running:
            try:
                reap(self.worker_id)
                super().run()
                return
            except CONNECTION_ERRORS as exc:
                if not self.running:
                    return
                self.wait_for_database(exc)
                self.startup_delay = False  # the pause before the first poll: once only

    def wait_for_database(self, exc: BaseException) -> None:
        """Log and report the outage, try the database with a growing pause until it answers,
        then hand back the task this worker was running (its result was not recorded)."""
        self.running_task = False  # a shutdown signal now exits at once
        down_since, pause = time.monotonic(), settings.WORKER_RECONNECT_MIN
        reason = f"database unavailable ({describe(exc)})"
        self.status.set("degraded", reason)
        worker_logger.warning("worker %s: %s; waiting for it, retrying every %.1f-%.0f s",
                              self.worker_id, reason, pause, settings.WORKER_RECONNECT_MAX)
        while self.running:
            time.sleep(pause)
            try:
                connection.close()
            except DatabaseError:
                pass  # the old connection is gone either way
            try:
                connection.ensure_connection()
                released = release_tasks_of(self.worker_id)
            except CONNECTION_ERRORS:
                pause = min(pause * 2, settings.WORKER_RECONNECT_MAX)
                continue
            self.status.set("ok")
            worker_logger.warning(
                "worker %s: database available again after %.1f s; resuming (%d interrupted "
                "task(s) retried, %d failed)", self.worker_id, time.monotonic() - down_since,
                *released)
            return


class Command(PlatformCommandMixin, LibraryCommand):
    help = "Run the task worker; waits out database outages; retries or fails tasks whose worker died"

    def handle(self, *args: Any, **options: Any) -> None:
        use_runtime_role()  # RUNTIME_DATABASE_URL, when set: the two-role layout
        refuse_unsafe_production("worker")  # DEBUG off on an unsafe set-up: one line each, exit
        setup_worker()  # Sentry and traces, when configured (as in the web processes)
        self.configure_logging(options["verbosity"])
        if options["reload"] and options["batch"]:
            options["reload"] = False  # as the library: reloading a batch makes no sense
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        status = WorkerStatus()
        worker = ResilientWorker(
            status=status, queue_names=queue_names, interval=options["interval"],
            batch=options["batch"], backend_name=options["backend_name"],
            startup_delay=options["startup_delay"], max_tasks=options["max_tasks"],
            worker_id=options["worker_id"], excluded_queue_names=excluded,
        )
        if not options["batch"]:
            threading.Thread(target=_reap_forever,
                             args=(settings.TASKS_REAP_INTERVAL, options["worker_id"]),
                             name="stale-task-reaper", daemon=True).start()
        with heartbeat(options["worker_id"], status):
            if options["reload"]:
                if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                    worker.configure_signals()
                run_with_reloader(worker.run)
            else:
                worker.configure_signals()
                worker.run()
