"""Clear the shared cache (level 2); every process then reloads from the database."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.core.management.base import CommandError

from tenancy.cache import tenant_cache
from tenancy.commands import PlatformCommand


class Command(PlatformCommand):
    help = "Clear Django's cache and this process's level-1 cache."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            cache.clear()
        except Exception as exc:  # noqa: BLE001
            raise CommandError(f"could not clear the cache: {exc.__class__.__name__}: {exc}") from exc
        tenant_cache.clear_local()
        self.stdout.write("cache cleared")
