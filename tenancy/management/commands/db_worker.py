"""``manage.py db_worker``: django-tasks-db's worker, which also retries or fails the tasks
whose worker died (:mod:`tenancy.stale_tasks`): at start-up, and every
``TASKS_REAP_INTERVAL`` seconds from a daemon thread while it runs (not in ``--batch`` mode,
which reaps once and exits after the queue)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection
from django_tasks_db.management.commands import db_worker

from tenancy.stale_tasks import reap_stale_tasks

logger = logging.getLogger("tenancy.stale_tasks")


def _reap_forever(interval: float) -> None:
    while True:
        time.sleep(interval)
        try:
            reap_stale_tasks()
        except Exception:  # noqa: BLE001 - a database hiccup must not end the reaper
            logger.exception("reaping stale tasks failed; trying again in %s s", interval)
        finally:
            connection.close()


class Command(db_worker.Command):
    help = db_worker.Command.help + "; retries or fails tasks whose worker died"

    def handle(self, *args: Any, **options: Any) -> None:
        reap_stale_tasks()
        if not options.get("batch"):
            threading.Thread(target=_reap_forever, args=(settings.TASKS_REAP_INTERVAL,),
                             name="stale-task-reaper", daemon=True).start()
        super().handle(*args, **options)
