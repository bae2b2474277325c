"""The account's language, timezone and currency are chosen from lists:
``settings.LANGUAGES``, the IANA zones of :mod:`zoneinfo`, the ISO 4217 codes of the
``iso4217`` package; phone numbers are checked by libphonenumber (``phonenumbers``).
(Names and addresses are single lines: ``tenancy.validators``.)"""

from __future__ import annotations

import re
import zoneinfo
from functools import lru_cache

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from iso4217 import Currency

from tenancy.validators import STRIPPED


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


#: What a number written for a country people call from inside it may hold: digits, spaces,
#: ( ) - . / and an extension ("x 12", "ext. 12").
LOCAL_PHONE_NUMBER = re.compile(r"[0-9 ()./-]*[0-9][0-9 ()./-]*(?:\s*(?:x|ext\.?)\s*[0-9]+)?", re.IGNORECASE)

#: :class:`PhoneNumberValidator` as a pattern for a schema (whitespace at the ends is trimmed):
#: a local number, or ``+`` and one; a number with ``+`` must also be possible for its country
#: calling code, which the schema states as ``format: phone``.
PHONE_NUMBER_PATTERN = (
    f"^[{STRIPPED}]*(?:\\+?[0-9 ()./-]*[0-9][0-9 ()./-]*"
    f"(?:[{STRIPPED}]*(?:[xX]|[eE][xX][tT]\\.?)[{STRIPPED}]*[0-9]+)?)?[{STRIPPED}]*$"
)


@deconstructible
class PhoneNumberValidator:
    """A phone number as people write it: in international form (``+49 30 901820``), one that
    libphonenumber finds possible for its country; without the country code, digits and the
    usual separators only. Letters, emoji and symbols are refused."""

    message = "Enter a phone number such as +1 415 555 0100 (digits, spaces and + ( ) - . / only)."
    code = "invalid_phone_number"

    def __call__(self, value: str) -> None:
        value = str(value).strip()
        if not value:
            return
        if value.startswith("+"):
            try:
                number = phonenumbers.parse(value, None)
            except phonenumbers.NumberParseException:
                raise ValidationError(self.message, code=self.code) from None
            if phonenumbers.is_possible_number(number) and LOCAL_PHONE_NUMBER.fullmatch(value[1:]):
                return
        elif LOCAL_PHONE_NUMBER.fullmatch(value):
            return
        raise ValidationError(self.message, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PhoneNumberValidator)

    def __hash__(self) -> int:
        return hash(PhoneNumberValidator)


validate_phone_number = PhoneNumberValidator()
