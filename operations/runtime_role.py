"""The two-role layout's switch (docs/OPERATIONS.md, "Database roles"): with
``RUNTIME_DATABASE_URL`` set, the web and the worker connect with it (a role with row access
only, see ``manage.py grant_runtime_role``), while the release phase and every other command
keep ``DATABASE_URL``, the owner's. Called by ``smarter/wsgi.py``, ``smarter/asgi.py`` and
``manage.py db_worker`` before anything connects, and before the production checks, which then
check the runtime role.
"""

from __future__ import annotations

import dj_database_url
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections


def use_runtime_role() -> bool:
    """Point the default database at ``RUNTIME_DATABASE_URL`` when it is set; True if so."""
    url = settings.RUNTIME_DATABASE_URL
    if not url:
        return False
    runtime = dj_database_url.parse(url)
    default = settings.DATABASES["default"]
    if runtime["ENGINE"] != default["ENGINE"]:
        raise ImproperlyConfigured("RUNTIME_DATABASE_URL must be the same kind of database as "
                                   "DATABASE_URL (postgres://)")
    connections["default"].close()  # nothing connected yet, normally: no owner connection kept
    # the connection's settings_dict is this same dict
    default["NAME"], default["USER"] = runtime["NAME"], runtime["USER"]
    default["PASSWORD"], default["HOST"] = runtime["PASSWORD"], runtime["HOST"]
    default["PORT"] = runtime["PORT"]
    return True
