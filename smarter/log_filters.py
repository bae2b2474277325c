"""Logging: filters for records that are client mistakes, not server faults; the formatters
(plain and JSON), which redact every line they write; the error report (the ``ADMINS`` mail)
redacted, and mailed at most once per distinct error. The redaction rule itself is
:mod:`tenancy.redaction`."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import MutableMapping
from typing import Any

from django.conf import settings
from django.utils.log import AdminEmailHandler
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from tenancy.redaction import SECRET_NAME, redact


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


class ClientErrorTracebackFilter(logging.Filter):
    """``django.request`` records of 4xx answers without their traceback.

    Django logs a refused permission (403) or a bad request (400) with the exception that
    caused it; it is the client's doing, one warning line says all there is.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True


#: Record attributes the JSON lines carry besides time, level, logger and message.
JSON_FIELDS = (
    "request_id", "account", "workspace", "method", "host_kind", "path", "view", "status",
    "status_code", "duration_ms", "user_id", "client_ip",
)


class RedactingFormatter(logging.Formatter):
    """The plain format (``LOG_FORMAT=plain``), redacted: message, arguments and traceback."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


#: The fields every JSON line carries, ``-`` when the record has none (no request or task).
REQUEST_FIELDS = ("request_id", "account", "workspace")


def _request_fields_or_dashes(logger: Any, method: str,
                              event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for name in REQUEST_FIELDS:
        event.setdefault(name, "-")
    return event


def json_formatter() -> logging.Formatter:
    """One JSON object per line (``LOG_FORMAT=json``), rendered by structlog from the
    stdlib's records: every library's log lines come out in the same shape (gunicorn's
    included, whose handler has no request filter), redacted."""
    import structlog

    class RedactingProcessorFormatter(structlog.stdlib.ProcessorFormatter):
        def format(self, record: logging.LogRecord) -> str:
            return redact(super().format(record))

    return RedactingProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ],
        foreign_pre_chain=[
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(allow=JSON_FIELDS),
            _request_fields_or_dashes,
            structlog.processors.format_exc_info,
        ],
    )


class RedactingReporterFilter(SafeExceptionReporterFilter):
    """Django's report filter with the project's rule: settings, frame variables and POST
    fields named like a secret are hidden, and every other setting's value is redacted (a
    ``DATABASE_URL`` keeps its host, not its password)."""

    hidden_settings = SECRET_NAME

    def cleanse_setting(self, key: Any, value: Any) -> Any:
        cleansed = super().cleanse_setting(key, value)
        return redact(cleansed) if isinstance(cleansed, str) else cleansed

    def get_post_parameters(self, request: Any) -> Any:
        params = super().get_post_parameters(request)
        if not params:
            return params
        params = params.copy()
        for key in params:
            if SECRET_NAME.search(key):
                params[key] = self.cleansed_substitute
        return params

    def get_traceback_frame_variables(self, request: Any, tb_frame: Any) -> Any:
        return [(name, self.cleansed_substitute if SECRET_NAME.search(name) else value)
                for name, value in super().get_traceback_frame_variables(request, tb_frame)]


class RedactingExceptionReporter(ExceptionReporter):
    """Django's error report (the ``ADMINS`` mail, the DEBUG page) without the secrets
    :func:`redact` knows: a 500 on a download link must not mail its token around."""

    def get_traceback_data(self) -> dict:
        data = super().get_traceback_data()
        if "request_GET_items" in data:  # query parameters named like a secret: hidden
            hide = self.filter.hidden_settings  # type: ignore[attr-defined]
            data["request_GET_items"] = [
                (k, self.filter.cleansed_substitute if hide.search(k) else v)  # type: ignore[attr-defined]
                for k, v in data["request_GET_items"]
            ]
        meta = data.get("request_meta")
        if isinstance(meta, dict):
            for key in ("QUERY_STRING", "RAW_URI", "REQUEST_URI"):
                if meta.get(key):
                    meta[key] = redact("?" + str(meta[key]))[1:]
        return data

    def get_traceback_text(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_text()))  # noqa: S308 - Django's, redacted

    def get_traceback_html(self) -> SafeString:
        return mark_safe(redact(super().get_traceback_html()))  # noqa: S308


class AdminMailHandler(AdminEmailHandler):
    """Django's ``ADMINS`` mail, redacted, and at most once per distinct error per
    ``ERROR_MAIL_INTERVAL`` seconds in each process: an outage must not send one mail per
    request or health probe. (With Sentry, which groups errors itself, leave ``ADMINS`` unset.)

    A distinct error is the logger, the message's template and, with an exception, its type
    and the line that raised it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._last_sent: dict[tuple, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def error_key(record: logging.LogRecord) -> tuple:
        """What makes two records the same error."""
        key: tuple = (record.name, str(record.msg))
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            where: tuple = ()
            for frame, line in traceback.walk_tb(exc.__traceback__):  # to the raising line
                where = (frame.f_code.co_filename, line)
            key += (type(exc).__module__, type(exc).__qualname__, *where)
        return key

    def emit(self, record: logging.LogRecord) -> None:
        key, now = self.error_key(record), time.monotonic()
        with self._lock:
            last = self._last_sent.get(key)
            if last is not None and now - last < settings.ERROR_MAIL_INTERVAL:
                return
            if len(self._last_sent) >= 1000:  # bounded: forget the oldest
                del self._last_sent[min(self._last_sent, key=self._last_sent.__getitem__)]
            self._last_sent[key] = now
        super().emit(record)

    def format_subject(self, subject: str) -> str:
        return redact(super().format_subject(subject))
