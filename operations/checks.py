"""Production (``DEBUG`` off) refuses unsafe set-ups: a database role that row-level security
does not bind (a superuser or ``BYPASSRLS`` role: the database wall would not exist), SQLite,
the default ``ROOT_DOMAIN``, and mail printed to the log (live invitation, verification and
export links) unless the operator opts in with ``EMAIL_TO_LOG=true``.

They are system checks of level Error, tagged ``production`` and registered as deployment
checks: ``manage.py check --deploy`` reports them, and the long-running processes run them at
start-up (:func:`refuse_unsafe_production`: ``smarter/wsgi.py``, ``smarter/asgi.py`` and
``manage.py db_worker``), so a web or worker process never serves on such a set-up. The
release phase (migrations) is not refused: it runs as the owner role, before the processes.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connection

TAG = "production"
LOGGING_MAIL_BACKENDS = frozenset({
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.filebased.EmailBackend",
})
logger = logging.getLogger(__name__)


def database_role_exempt_from_rls() -> str | None:
    """``"superuser"`` or ``"BYPASSRLS"`` when the connection's role passes through row-level
    security; None when the wall binds it (or the database is not PostgreSQL)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    if row is None:
        return None
    return "superuser" if row[0] else "BYPASSRLS" if row[1] else None


@checks.register(TAG, deploy=True)
def check_production(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The refusals of the module docstring (none with ``DEBUG`` on, nor under the test
    suite's settings, whose runner turns ``DEBUG`` off for every test)."""
    if settings.DEBUG or settings.TESTING:
        return []
    found: list[checks.CheckMessage] = []
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        found.append(checks.Error(
            "DATABASE_URL is unset or SQLite: production needs PostgreSQL (the database wall is "
            "its row-level security)", id="operations.E001"))
    else:
        try:
            exempt = database_role_exempt_from_rls()
        except DatabaseError as exc:
            found.append(checks.Info(
                f"the database role was not checked: the database does not answer "
                f"({type(exc).__name__})", id="operations.I002"))
        else:
            if exempt:
                user = connection.settings_dict.get("USER") or "?"
                found.append(checks.Error(
                    f"the database role {user!r} is a {exempt} role, which row-level security "
                    "does not bind: connect as a role without SUPERUSER and BYPASSRLS "
                    "(docs/OPERATIONS.md, 'Database roles')", id="operations.E002"))
        finally:
            connection.close()
    if settings.ROOT_DOMAIN in {"", "localhost"}:
        found.append(checks.Error("ROOT_DOMAIN is unset: set the domain tenants live under",
                                  id="operations.E003"))
    if settings.EMAIL_BACKEND in LOGGING_MAIL_BACKENDS and not settings.EMAIL_TO_LOG:
        found.append(checks.Error(
            "EMAIL_URL is unset: mail (with live sign-in and export links) would be printed to "
            "the log; set EMAIL_URL, or EMAIL_TO_LOG=true to accept that", id="operations.E004"))
    return found


def unsafe_production() -> list[str]:
    """The messages of the Error-level production checks (empty when safe or ``DEBUG`` on)."""
    return [f"{m.id}: {m.msg}" for m in check_production() if m.is_serious()]


def refuse_unsafe_production(process: str) -> None:
    """Exit (status 4: gunicorn's "app failed to load", which stops the arbiter too) with one
    line per refusal when this is production on an unsafe set-up."""
    problems = unsafe_production()
    if not problems:
        return
    for problem in problems:
        logger.critical("%s refuses to start: %s", process, problem)
    raise SystemExit(4)
