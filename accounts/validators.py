"""The account's language, timezone and currency are chosen from lists:
``settings.LANGUAGES``, the IANA zones of :mod:`zoneinfo`, the ISO 4217 codes of the
``iso4217`` package. (Names and addresses are single lines: ``tenancy.validators``.)"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from iso4217 import Currency


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


@lru_cache(maxsize=1)
def currency_choices() -> list[tuple[str, str]]:
    return sorted((c.code, f"{c.code} – {c.currency_name}") for c in Currency)


def language_choices() -> list[tuple[str, str]]:
    return [(code, str(name)) for code, name in settings.LANGUAGES]


def _choose(value: str, choices: list[tuple[str, str]], what: str) -> None:
    if value not in {code for code, _ in choices}:
        raise ValidationError(f"{value[:40]!r} is not a known {what}.", code="invalid_choice")


def validate_timezone(value: str) -> None:
    """An IANA time zone name (``Europe/Berlin``, ``UTC``)."""
    _choose(value, timezone_choices(), "time zone")


def validate_currency(value: str) -> None:
    """An ISO 4217 currency code (``EUR``)."""
    _choose(value, currency_choices(), "ISO 4217 currency code")


def validate_language(value: str) -> None:
    """One of the configured ``settings.LANGUAGES``."""
    _choose(value, language_choices(), "language")
