"""Logging filters for records that are client mistakes, not server faults."""

from __future__ import annotations

import logging


class ClientErrorLogFilter(logging.Filter):
    """Log the message alone at WARNING, without the traceback.

    Django logs a rejected Host header (``django.security.DisallowedHost``: a 400) at
    ERROR with a traceback; any scanner probing the server's address would fill the logs
    with them and bury real errors.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        if record.levelno > logging.WARNING:
            record.levelno, record.levelname = logging.WARNING, "WARNING"
        return True
