"""Account.require_mfa: on that tenant's host a signed-in member without an authenticator
app is sent to set one up before any page (API keys are unaffected: /api/ is exempt)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

# Pages a member still needs while enrolling: MFA itself, re-authentication, signing out.
ALLOWED_PREFIXES = ("/accounts/2fa/", "/accounts/reauthenticate/", "/accounts/logout/",
                    "/logout/", "/static/", "/api/", "/healthz")


class RequireMfaMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        account = getattr(request, "account", None)
        if (
            account is not None
            and account.require_mfa
            and getattr(request, "user_profile", None) is not None  # members; operators aside
            and not request.path_info.startswith(ALLOWED_PREFIXES)
            and not is_mfa_enabled(request.user, [Authenticator.Type.TOTP])
        ):
            query = urlencode({"next": request.get_full_path()})
            return HttpResponseRedirect(f"{reverse('mfa_activate_totp')}?{query}")
        return self.get_response(request)
