"""The signed-in person's sessions, as allauth.usersessions keeps them, for the profile page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from allauth.usersessions.models import UserSession
from django.http import HttpRequest

MAX_SHOWN = 50


@dataclass(frozen=True)
class SessionRow:
    """One session: where it was signed in, when, from which address and browser."""

    host: str
    created_at: datetime
    ip: str
    user_agent: str
    is_current: bool


def active_sessions(request: HttpRequest) -> list[SessionRow]:
    """The user's live sessions, the current one first, then the newest (ended ones are
    dropped from allauth's table on the way: ``purge_and_list``)."""
    current = request.session.session_key
    live = UserSession.objects.purge_and_list(request.user)  # type: ignore[arg-type]
    live.sort(key=lambda s: (s.session_key != current, -s.created_at.timestamp()))
    return [
        SessionRow(host=str((s.data or {}).get("host", "")), created_at=s.created_at, ip=s.ip,
                   user_agent=s.user_agent, is_current=s.session_key == current)
        for s in live[:MAX_SHOWN]
    ]
