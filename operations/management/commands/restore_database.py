"""``manage.py restore_database FILE``: restore an archive of ``backup_database`` into the
empty database ``DATABASE_URL`` names, then check that every tenant table is behind the wall
again. Run it as the role that is to own the tables (the release phase's)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from operations.backup import BackupError, restore
from tenancy.commands import PlatformCommand


class Command(PlatformCommand):
    help = "Restore a backup_database archive into an empty database and check the wall"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="the archive backup_database wrote")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            counts = restore(options["path"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Restored; {len(counts)} tenant tables behind the wall, "
                          f"{sum(counts.values())} tenant rows. Run reset_cache before serving.")
