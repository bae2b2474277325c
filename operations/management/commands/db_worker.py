"""``manage.py db_worker``: django-tasks-db's worker with a heartbeat (``operations.heartbeat``).

This app is listed before ``django_tasks_db`` in ``INSTALLED_APPS``, so this command is the
one ``manage.py`` runs; options and behaviour are the library's.
"""

from __future__ import annotations

from typing import Any

from django_tasks_db.management.commands.db_worker import Command as LibraryCommand

from operations.heartbeat import heartbeat


class Command(LibraryCommand):
    help = LibraryCommand.help if hasattr(LibraryCommand, "help") else "Run the task worker."

    def handle(self, *args: Any, **options: Any) -> None:
        with heartbeat(options["worker_id"]):
            super().handle(*args, **options)
