"""``manage.py flush``: Django's, as a purge of the whole database (audit events included,
which the database otherwise refuses to delete; see audit.guard)."""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush

from audit.guard import purging
from tenancy.commands import PlatformCommandMixin


class Command(PlatformCommandMixin, flush.Command):
    def handle(self, **options: Any) -> None:
        with purging(options["database"]):
            super().handle(**options)
