"""Single-line text: names and addresses carry no control characters (CR and LF in a company
name end up in the headers of every mail that names it) and no text-direction overrides (a
name shown to other people must read as what it is: U+202E turns "alice\u202egnp.exe" into
"aliceexe.png")."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

#: C0 and C1 control characters (CR, LF, TAB, NUL, ESC, ...), the Unicode line separators and
#: the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069).
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

#: What ``str.strip()`` removes (so does a serializer's trimming before any validator runs):
#: the Unicode whitespace, spelled out so the class reads the same in every regex dialect.
STRIPPED = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CONTROL = CONTROL_CHARACTERS.pattern[1:-1]


def single_line_pattern(*, allow_blank: bool = True) -> str:
    """The values a trimmed single-line field accepts, as a pattern for a schema: whitespace at
    the ends (trimmed away), no control character between; with ``allow_blank=False`` at least
    one character that is not whitespace."""
    if allow_blank:
        return f"^[{STRIPPED}]*[^{_CONTROL}]*[{STRIPPED}]*$"
    return f"^[{STRIPPED}]*[^{_CONTROL}{STRIPPED}][^{_CONTROL}]*[{STRIPPED}]*$"


@deconstructible
class SingleLineValidator:
    """Refuse control characters. (Not a RegexValidator with ``inverse_match``: OpenAPI
    generators would publish its pattern as one the value must match.)"""

    message = "Control characters (such as line breaks, tabs or text-direction marks) are not allowed here."
    code = "control_characters"

    def __call__(self, value: Any) -> None:
        if CONTROL_CHARACTERS.search(str(value)):
            raise ValidationError(self.message, code=self.code)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SingleLineValidator)

    def __hash__(self) -> int:
        return hash(SingleLineValidator)


validate_single_line = SingleLineValidator()
