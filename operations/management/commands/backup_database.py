"""``manage.py backup_database FILE``: a complete logical backup (``pg_dump -Fc``) taken with
the app's own credentials under the database wall; ``-`` writes it to standard output
(``heroku run --no-tty python manage.py backup_database - > backup.dump``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from operations.backup import BackupError, backup
from tenancy.commands import PlatformCommand


class Command(PlatformCommand):
    help = "Write a pg_dump archive of the whole database, every tenant's rows included"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help='the archive to write, or "-" for standard output')

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            backup(options["path"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if options["path"] != "-":
            self.stderr.write(f"Backup written to {options['path']}")
