"""The one redaction rule for everything that leaves the process: log lines, error mails
(Django's exception reporter), Sentry events and breadcrumbs, and trace spans.

Three kinds of secret are replaced by ``[redacted]``:

* secrets by shape: single-use tokens in paths, query parameters named like a credential, API
  keys (``sk_<prefix>.<secret>``: the prefix is kept), the password of any URL
  (``postgres://app:PASSWORD@…``), and ``password=…`` / ``"secret": "…"`` pairs (a libpq
  connection string, a dict's repr);
* secrets by value: the values of this process's own credentials, wherever they appear (the
  database, Redis and mail passwords, the Sentry DSN's keys, ``SECRET_KEY``, API tokens), read
  from the settings (:func:`known_secrets`);
* secrets by name, in structured data (:func:`scrub`): any mapping entry whose key is named like
  a credential (:data:`SECRET_NAME`: Django's own rule for settings, plus DSN, cookies and
  credentials), e.g. a frame's ``password`` variable or a form's ``password2`` field.
"""

from __future__ import annotations

import functools
import re
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

REDACTED = "[redacted]"

#: Keys (setting, variable, form field, header names) whose values are secrets.
SECRET_NAME = re.compile(
    r"API|AUTH|TOKEN|KEY|SECRET|PASS|PWD|SIGNATURE|COOKIE|DSN|CREDENTIAL", re.IGNORECASE
)

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
# scheme://user:PASSWORD@host (the user is kept: it names the role, not a secret)
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s'\"]*:)[^@/\s'\"]+@")
# password=VALUE, password: 'VALUE', "db_password": "VALUE" (connection strings, reprs, JSON)
_PAIR = re.compile(
    r"""(\b[\w.-]*(?:passw(?:or)?d|pwd|secret)[\w.-]*["']?\s*[=:]\s*)"""
    r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s,;&'"}\])]+)""",
    re.IGNORECASE,
)

# Settings named like a credential whose values are not secrets (names, lists of classes).
_NOT_SECRET_SETTING = re.compile(r"(_NAME|_PREFIX|_HEADER|_AGE|_PATH|_DOMAIN|_SECURE|_HTTPONLY|"
                                 r"_SAMESITE|_HASHERS|_VALIDATORS|_TIMEOUT|_ADAPTER|_CLASS|"
                                 r"_FORMS?|_METHODS|_REDIRECT_URL|_URL_NAME)$")
_SECRET_SETTING = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|DSN|KEYS?$")
MIN_SECRET_LENGTH = 6  # shorter values are too common to replace wherever they appear


def _collect(name: str, value: Any, found: set[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _collect(str(key), item, found)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _collect(name, item, found)
    elif isinstance(value, str) and value:
        if "://" in value:
            try:
                parts = urlsplit(value)
                password, username = parts.password, parts.username
            except ValueError:
                password = username = None
            if password:
                found.add(unquote(password))
            if username and "DSN" in name.upper():  # a DSN's key is its user part
                found.add(unquote(username))
        # by name: settings and their upper-case keys (DATABASES' PASSWORD), not a lower-case
        # key such as ACCOUNT_RATE_LIMITS' "reset_password"
        if name.isupper() and _SECRET_SETTING.search(name) and not _NOT_SECRET_SETTING.search(name):
            found.add(value)


def known_secrets() -> tuple[str, ...]:
    """The values of this process's credentials (and their URL-quoted forms), longest first:
    every setting named like a secret, every password in a URL-valued setting (``DATABASES``,
    ``CACHES``' locations, ``EMAIL_URL``…) and the Sentry DSN's keys. Empty before the
    settings are loaded (gunicorn's arbiter never loads them), and not remembered then: a
    line logged that early must not leave the process's workers without the list."""
    if not settings.configured:
        return ()
    return _settings_secrets()


@functools.cache
def _settings_secrets() -> tuple[str, ...]:
    found: set[str] = set()
    for name in dir(settings):
        if name.isupper():
            _collect(name, getattr(settings, name, None), found)
    found |= {quote(v, safe="") for v in found}
    return tuple(sorted((v for v in found if len(v) >= MIN_SECRET_LENGTH), key=len, reverse=True))


@receiver(setting_changed)
def _forget_known_secrets(**kwargs: Any) -> None:
    _settings_secrets.cache_clear()


def redact(text: str) -> str:
    """``text`` with every secret this module knows (by shape or by value) replaced."""
    for secret in known_secrets():
        if secret in text:
            text = text.replace(secret, REDACTED)
    if "/" not in text and "=" not in text and ":" not in text and "sk_" not in text:
        return text
    text = _SECRET_PATH.sub(rf"\1{REDACTED}", text)
    text = _SECRET_QUERY.sub(rf"\1{REDACTED}", text)
    text = _URL_PASSWORD.sub(rf"\1{REDACTED}@", text)
    text = _PAIR.sub(rf"\1{REDACTED}", text)
    return _API_KEY.sub(rf"\1.{REDACTED}", text)


def scrub(value: Any, name: str = "") -> Any:
    """``value`` (an event, a span's attributes: mappings, lists and strings) with every
    string redacted, and every leaf under a key named like a secret replaced."""
    if isinstance(value, dict):
        return {key: scrub(item, str(key)) for key, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, name) for item in value]
    if isinstance(value, tuple):
        return tuple(scrub(item, name) for item in value)
    if name and SECRET_NAME.search(name) and isinstance(value, (str, bytes, int, float)) \
            and not isinstance(value, bool) and value not in ("", b""):
        return REDACTED
    if isinstance(value, str):
        return redact(value)
    return value
