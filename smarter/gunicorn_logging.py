"""gunicorn's own log lines (start, workers booting and exiting, stop) in the app's format.

With ``LOG_FORMAT=json`` (``gunicorn.conf.py``) gunicorn's loggers write one JSON object per
line through the same structlog formatter as the app (``smarter.log_filters.json_formatter``),
so a log pipeline reading JSON gets every line of the web process in one shape. gunicorn
turns its access log on whenever a ``logconfig_dict`` is given; :class:`Logger` keeps it off
unless ``--access-logfile`` asks for it (the app writes its own access line, without query
strings: gunicorn's would log download tokens). Nothing here imports Django's settings: the
arbiter must not configure them before it forks the workers.
"""

from __future__ import annotations

from typing import Any

from gunicorn import glogging


def logconfig_dict(log_format: str) -> dict[str, Any]:
    """gunicorn's ``logconfig_dict`` for ``log_format`` (``json``); empty (gunicorn's own
    plain lines) for any other."""
    if log_format.strip().lower() != "json":
        return {}
    gunicorn_logger = {"level": "INFO", "handlers": ["json_console"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": "INFO", "handlers": ["json_console"]},
        "loggers": {
            "gunicorn.error": {**gunicorn_logger, "qualname": "gunicorn.error"},
            "gunicorn.access": {**gunicorn_logger, "qualname": "gunicorn.access"},
        },
        "handlers": {
            "json_console": {"class": "logging.StreamHandler", "formatter": "json",
                             "stream": "ext://sys.stderr"},
        },
        "formatters": {"json": {"()": "smarter.log_filters.json_formatter"}},
    }


class Logger(glogging.Logger):
    """gunicorn's logger, whose access log is on only with ``--access-logfile``."""

    @property
    def access_log_enabled(self) -> bool:
        return bool(self.cfg.accesslog)
