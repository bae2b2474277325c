"""Helpers of the front-door tests: links in mails, and the hosts they point to."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.core import mail

LINK_RE = re.compile(r"https?://[^\s\"'<>]+")


def mails_to(address: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to]


def last_mail(address: str) -> Any:
    found = mails_to(address)
    assert found, f"no mail to {address}; outbox: {[(m.to, m.subject) for m in mail.outbox]}"
    return found[-1]


def links(message: Any) -> list[str]:
    return LINK_RE.findall(message.body)


def link_with(message: Any, fragment: str) -> str:
    found = [u for u in links(message) if fragment in u]
    assert found, f"no link containing {fragment!r} in:\n{message.body}"
    return found[0]


def host_and_path(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.path + (f"?{parts.query}" if parts.query else "")


def assert_mail_is_complete(message: Any, company: str, host: str) -> None:
    """Text and HTML, both naming the account and its host."""
    html = [c for c, mime in message.alternatives if mime == "text/html"]
    assert html, "the mail has no HTML part"
    for body in (message.body, html[0]):
        assert company in body and host in body, body
