"""Each request to a tenant host runs as one :mod:`tenancy.operation` for the audit log.

Started by ``middleware.after_auth`` after authentication; the actor (session user, or the
API key the JSON API authenticates inside the view) is read from the request when an event
is written.
"""

from __future__ import annotations

import re
from contextvars import Token
from typing import Any

from django.http import HttpRequest

from tenancy.operation import Operation, start_operation

_AREAS = (("/console/", "console"), ("/api/", "api"), ("/admin/", "admin"), ("/scim/", "scim"),
          # allauth's socialaccount: the accounts' identity providers (sso/)
          ("/accounts/oidc/", "sso"), ("/accounts/saml/", "sso"), ("/accounts/social/", "sso"),
          ("/accounts/sso/", "sso"))
#: the prefixes above as one anchored pattern (one match per request, not a loop over them)
_AREA_RE = re.compile("|".join(f"({re.escape(prefix)})" for prefix, _ in _AREAS))


def request_source(path: str) -> str:
    """console, api, admin, scim, sso, or web for any other page (the first of ``_AREAS``
    whose prefix starts ``path``)."""
    match = _AREA_RE.match(path)
    return "web" if match is None else _AREAS[match.lastindex - 1][1]  # type: ignore[operator]


def request_operation(request: HttpRequest) -> Operation:
    """The operation of ``request`` (its client address is worked out when an event needs
    it: ``Operation.address``)."""
    return Operation(request_source(request.path_info), request=request,
                     request_id=getattr(request, "request_id", ""))


def start_request_operation(request: HttpRequest) -> Token[Any]:
    """Make ``request`` the current operation, built when something first asks for it; pass
    the token to ``tenancy.operation.end_operation`` in a ``finally``."""
    return start_operation((request_operation, request))
