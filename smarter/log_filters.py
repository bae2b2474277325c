"""Logging filters for records that are client mistakes, not server faults."""

from __future__ import annotations

import logging
import re

from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter


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


# Secrets that reach URLs: single-use tokens in paths (invitations, the sign-up hand-off,
# email confirmation, password reset keys), any query parameter named like a credential
# (the export download's ?token=), and API keys (sk_<prefix>.<secret>: the prefix is kept).
_SECRET_PATH = re.compile(
    r"(/(?:invitations|accounts/handoff|accounts/confirm-email|accounts/password/reset/key)/)"
    r"[^/\s?#\"']+"
)
_SECRET_QUERY = re.compile(
    r"([?&;](?:[\w.-]*(?:token|key|secret|password|signature|code|sig|auth)[\w.-]*)=)[^&;\s#\"']*",
    re.IGNORECASE,
)
_API_KEY = re.compile(r"\b(sk_[A-Za-z0-9]+)\.[A-Za-z0-9_\-]+")
REDACTED = "[redacted]"


def redact(text: str) -> str:
    """``text`` with the secrets above replaced by ``[redacted]``."""
    if "/" not in text and "=" not in text and "sk_" not in text:
        return text
    text = _SECRET_PATH.sub(rf"\1{REDACTED}", text)
    text = _SECRET_QUERY.sub(rf"\1{REDACTED}", text)
    return _API_KEY.sub(rf"\1.{REDACTED}", text)


#: Record attributes the JSON lines carry besides time, level, logger and message.
JSON_FIELDS = (
    "request_id", "account", "workspace", "method", "host_kind", "path", "view", "status",
    "status_code", "duration_ms", "user_id", "client_ip",
)


def json_formatter() -> logging.Formatter:
    """One JSON object per line (``LOG_FORMAT=json``), rendered by structlog from the
    stdlib's records: every library's log lines come out in the same shape."""
    import structlog

    return structlog.stdlib.ProcessorFormatter(
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ],
        foreign_pre_chain=[
            structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
            structlog.stdlib.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(allow=JSON_FIELDS),
            structlog.processors.format_exc_info,
        ],
    )


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
