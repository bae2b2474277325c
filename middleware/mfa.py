"""Account.require_mfa: on that tenant's host a signed-in member without an authenticator
app is sent to set one up before any page (API keys are unaffected: /api/ is exempt).
Checked by ``middleware.after_auth`` after the membership is known.

Only page requests are redirected: a browser's own requests (favicon, images, scripts) and
XHR/fetch calls or clients that do not accept HTML get a plain 403 instead, so they can
never start, restart or break the set-up flow the person is looking at.
"""

from __future__ import annotations

from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseRedirect
from django.urls import reverse

# Pages a member still needs while enrolling: MFA itself, re-authentication, signing out.
ALLOWED_PREFIXES = ("/accounts/2fa/", "/accounts/reauthenticate/", "/accounts/logout/",
                    "/logout/", "/static/", "/api/", "/healthz")
#: Sec-Fetch-Dest values of a navigation (a page the person will see).
PAGE_DESTINATIONS = frozenset({"document", "iframe", "frame"})


def is_page_request(request: HttpRequest) -> bool:
    """Whether the request is a navigation to a page (a flow may redirect it): not XHR, a
    navigation destination when the browser says, and HTML acceptable when Accept is sent."""
    headers = request.headers
    if headers.get("X-Requested-With", "").lower() == "xmlhttprequest":
        return False
    dest = headers.get("Sec-Fetch-Dest", "").lower()
    if dest and dest not in PAGE_DESTINATIONS:
        return False
    accept = headers.get("Accept", "")
    return not accept or "text/html" in accept.lower()


def mfa_setup_response(request: HttpRequest) -> HttpResponse | None:
    """The answer for a member of a ``require_mfa`` account without an authenticator app
    (a redirect to the set-up for a page, a 403 otherwise), or None to serve the request."""
    account = getattr(request, "account", None)
    if (
        account is not None
        and account.require_mfa
        and getattr(request, "user_profile", None) is not None  # members; operators aside
        and not request.path_info.startswith(ALLOWED_PREFIXES)
        and not is_mfa_enabled(request.user, [Authenticator.Type.TOTP])
    ):
        if not is_page_request(request):
            return HttpResponseForbidden("Set up two-factor authentication first.",
                                         content_type="text/plain; charset=utf-8")
        query = urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?{query}")
    return None
