"""The findings tables of docs/OPERATIONS.md and docs/RELIABILITY.md name tests that exist:
every ``tests/<file>.py::<name>`` (and each ``::<name>`` after it, in the same file) is a test
function of that file, so a renamed or removed test cannot leave a row pointing at nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {  # document -> the heading of its issue-36 findings table
    "docs/OPERATIONS.md": "### Findings of issue 36 and their tests",
    "docs/RELIABILITY.md": "## Issue 36 — operations that leak nothing and stay up",
}
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?::(\w+)")


def _section(document: str, heading: str) -> str:
    text = (ROOT / document).read_text()
    start = text.index(heading)
    following = re.search(r"^#{2,3} ", text[start + len(heading):], flags=re.MULTILINE)
    return text[start:start + len(heading) + (following.start() if following else len(text))]


def _references(section: str) -> list[tuple[str, str]]:
    """(file, test name) of every reference, row by row (``::name`` alone: the row's last file)."""
    found: list[tuple[str, str]] = []
    for row in section.splitlines():
        current = ""
        for match in REFERENCE.finditer(row):
            current = match.group(1) or current
            assert current, f"{match.group(0)} names no file before it: {row[:120]}"
            found.append((current, match.group(2)))
    return found


@pytest.mark.parametrize("document", sorted(SECTIONS))
def test_every_test_a_findings_row_names_exists(document: str) -> None:
    references = _references(_section(document, SECTIONS[document]))
    assert len(references) >= 30, references  # every finding of the issue has its row
    missing = [f"{path}::{name}" for path, name in references
               if not re.search(rf"^(async )?def {name}\(", (ROOT / path).read_text(), re.MULTILINE)]
    assert missing == []
