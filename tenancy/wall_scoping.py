"""The database wall's contract kept by the ORM where the database has no row-level security
(SQLite, the embedded default).

Tenant-owned models use :class:`TenantWallManager` (the ``tenancy.W112`` check says so) and
querysets derived from :class:`TenantWallQuerySet`. On such a database, the manager's
querysets follow the mode of :mod:`tenancy.wall`: platform mode (or a crossing), every row;
tenant mode, that account's rows plus the platform's shared rows. On PostgreSQL reads add
nothing: the policies do it, for raw SQL too. ``update()``/``delete()`` touch that account's
rows only, on every database.

With no mode, running a query raises :class:`tenancy.wall.NoWallModeError` on every database
(the database underneath still shows no rows): a script or thread that forgot to enter a
mode fails loudly, naming the fix, instead of reading empty tables. Building a queryset is
allowed (forms and admin declare them at import); running it is not.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import connections, models, router
from django.db.models import Q

from .registry import options
from .wall import current_wall, require_mode


def has_row_level_security(alias: str) -> bool:
    """Whether the database behind ``alias`` enforces the wall itself (PostgreSQL)."""
    return connections[alias].vendor == "postgresql"


def _column() -> str:
    return f"{settings.TENANCY_TENANT_FIELD}_id"


def shared_owner_column(model: type[models.Model]) -> str | None:
    """The owner column of ``model``'s rows the read rule shares from the platform, from the
    ``permission_owner_field`` of its registration (None for models without one)."""
    name = options(model).permission_owner_field
    if not name:
        return None
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    return str(getattr(field, "column", name))


def _shared_q(model: type[models.Model], shared: tuple[int, int] | None) -> Q:
    owner = shared_owner_column(model)
    if shared is None or owner is None:
        return Q(pk__in=[])
    return Q(**{_column(): shared[0], owner: shared[1]})


class TenantWallQuerySet(models.QuerySet):
    """Writes (``update()``, ``delete()``) limited to the tenant in tenant mode, on every
    database: the platform's shared rows are readable, never writable, and a ``delete()``
    must not even collect them (their cascades and signals would write outside the tenant)."""

    def _writable(self) -> TenantWallQuerySet:
        wall = require_mode(self.model._meta.label)
        if wall.platform:
            return self
        return self.filter(**{_column(): wall.account_id})

    def update(self, **kwargs: Any) -> int:
        return super(TenantWallQuerySet, self._writable()).update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        return super(TenantWallQuerySet, self._writable()).delete()

    # Every way a queryset runs a read: no mode, a loud error (see module).
    def _fetch_all(self) -> None:
        if self._result_cache is None:
            require_mode(self.model._meta.label)
        super()._fetch_all()

    def iterator(self, chunk_size: int | None = None) -> Any:
        require_mode(self.model._meta.label)
        return super().iterator(chunk_size=chunk_size)

    def count(self) -> int:
        if self._result_cache is None:
            require_mode(self.model._meta.label)
        return super().count()

    def exists(self) -> bool:
        if self._result_cache is None:
            require_mode(self.model._meta.label)
        return super().exists()

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        require_mode(self.model._meta.label)
        return super().aggregate(*args, **kwargs)


class TenantWallManager(models.Manager.from_queryset(TenantWallQuerySet)):  # type: ignore[misc]
    """The default manager of a tenant-owned model: reads follow the wall's mode."""

    def get_queryset(self) -> models.QuerySet:
        queryset = super().get_queryset()
        alias = self._db or router.db_for_read(self.model)
        if has_row_level_security(alias):
            return queryset
        wall = current_wall()
        if wall is None:
            return queryset.none()
        if wall.platform:
            return queryset
        return queryset.filter(Q(**{_column(): wall.account_id}) | _shared_q(self.model, wall.shared))
