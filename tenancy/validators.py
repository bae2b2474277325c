"""Single-line text: names and addresses carry no control characters (CR and LF in a company
name end up in the headers of every mail that names it)."""

from __future__ import annotations

import re

from django.core.validators import RegexValidator

#: C0 and C1 control characters (CR, LF, TAB, NUL, ESC, ...) and the Unicode line separators.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")

validate_single_line = RegexValidator(
    CONTROL_CHARACTERS, inverse_match=True, code="control_characters",
    message="Control characters (such as line breaks or tabs) are not allowed here.",
)
