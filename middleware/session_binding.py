"""Sessions bound to the host and account that signed them in.

A session cookie is host-only, but a cookie is data a client can replay: a tenant controls
its custom domain's DNS and certificate, so a session seen there could be sent to another
tenant's host. The signed-in session records ``[host, account id, user id]`` on the request
that signed it in; on any other host or account the same session is anonymous (signed out
there, still signed in where it was made). A signed-in session without a binding (one made
before this existed, or by a test's ``force_login``) is bound to the first host it is used on.
``middleware.after_auth`` calls both halves: the check before the view, the binding after.
"""

from __future__ import annotations

import logging
from typing import Any, TypeGuard

from django.contrib.auth import SESSION_KEY
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

logger = logging.getLogger(__name__)
BINDING_KEY = "_bound_to"


def binding_of(request: HttpRequest) -> list[Any]:
    """``[host, account id]`` of the request: the host as parsed (no port), and its tenant."""
    info = getattr(request, "host_info", None)
    host = info.host if info is not None else request.get_host().rsplit(":", 1)[0].lower()
    return [host, getattr(getattr(request, "account", None), "pk", None)]


def sign_out_if_bound_elsewhere(request: HttpRequest) -> None:
    """Before the view (after auth): a session signed in on another host or account is
    anonymous here. For requests with a session cookie (the caller checks): without one
    there is nothing to load."""
    here = binding_of(request)
    uid = request.session.get(SESSION_KEY)
    bound = request.session.get(BINDING_KEY)
    if uid is not None and _for_user(bound, uid) and bound[:2] != here:
        logger.warning("session of user %s bound to %s used on %s: anonymous here",
                       uid, bound[0], here[0])
        request.user = AnonymousUser()


def bind(request: HttpRequest) -> None:
    """After the view: bind a signed-in session that is not bound to its user yet (signed in
    by this request, or made before bindings existed) to this request's host and account."""
    session = getattr(request, "session", None)
    if session is None or not session.accessed:
        # Nothing read or wrote it: nobody signed in here (a sign-in writes the session, and
        # a request with a session cookie was read before the view). Reading it now would
        # add ``Vary: Cookie`` to every anonymous answer.
        return
    uid = session.get(SESSION_KEY)
    if uid is not None and not _for_user(session.get(BINDING_KEY), uid):
        session[BINDING_KEY] = [*binding_of(request), str(uid)]


def _for_user(bound: Any, uid: Any) -> TypeGuard[list[Any]]:
    return isinstance(bound, list) and len(bound) == 3 and bound[2] == str(uid)
