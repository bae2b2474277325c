"""Run as ``python -m tests.support.task_support [db_worker options]``: the project's ``db_worker``
whose export hangs after writing a marker file (``$HANG_MARKER``), for a test to kill the
worker in the middle of a task."""

from __future__ import annotations

import os
import sys
import time
from typing import Any


def _hanging_export(account: Any, out: Any) -> None:
    with open(os.environ["HANG_MARKER"], "w") as marker:
        marker.write(str(os.getpid()))
    time.sleep(300)


if __name__ == "__main__":
    import django

    django.setup()
    import lifecycle.tasks

    lifecycle.tasks.write_export = _hanging_export  # type: ignore[assignment]
    from django.core.management import call_command

    call_command("db_worker", *sys.argv[1:])
