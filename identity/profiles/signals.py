"""Record on which host a session was signed in, so the profile page can say where it is.

allauth.usersessions records the sessions of allauth's own sign-in flows (its receiver of
allauth's ``user_logged_in`` drops rows whose session holds no user yet, then adds the
session); the Django admin's sign-in sends Django's signal only. Both land here: the session
is recorded with the host it is bound to (``middleware.session_binding``), in
``UserSession.data["host"]``.
"""

from __future__ import annotations

from typing import Any

from allauth.account.signals import user_logged_in as allauth_logged_in
from allauth.usersessions.models import UserSession
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from middleware.session_binding import binding_of


def _served(request: HttpRequest | None) -> bool:
    """A request the tenant middleware served (a test's force_login has none, nor an address)."""
    return (request is not None and getattr(request, "host_info", None) is not None
            and bool(request.META.get("REMOTE_ADDR")))


def _name_host(request: HttpRequest) -> None:
    UserSession.objects.filter(session_key=request.session.session_key).update(
        data={"host": binding_of(request)[0]})


@receiver(user_logged_in, dispatch_uid="profiles.record_session")
def record_session(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Every sign-in (the Django admin's too) gets its user-session row, naming its host."""
    if _served(request):
        assert request is not None
        UserSession.objects.create_from_request(request, user=user)
        _name_host(request)


@receiver(allauth_logged_in, dispatch_uid="profiles.record_session_host")
def record_session_host(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    """After allauth.usersessions (re)made the row of an allauth sign-in: name its host."""
    if _served(request):
        assert request is not None
        _name_host(request)
