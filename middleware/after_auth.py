"""Everything the product does once the user is known, as one middleware layer.

One layer rather than one middleware per job: each of Django's middleware layers is a wrapper
of exception handling around the next, which on a trivial request costs more than the jobs
themselves. Each job keeps its own module and is called here in this order (host-bound
sessions' two halves, 1 and 6, around the rest):

1. host-bound sessions (``middleware.session_binding``): a session bound to another host or
   account is anonymous here;
2. membership (``middleware.tenant.attach_member``): ``request.user_profile``, strangers anonymous;
3. required 2FA (``middleware.mfa.mfa_setup_response``): a member without an authenticator
   app is sent to set one up, and the view does not run;
4. audit context (``middleware.audit.start_request_operation``) around the view;
5. usage counting (``middleware.usage.record_usage``) after the answer, set-up answers included;
6. the session signed in by this request is bound to its host and account (``session_binding``);
7. required SSO (``middleware.sso_session``): after the membership, a member's session that
   did not come from the account's own SSO is signed out; after the view, a sign-in this
   request made without it is undone and answered with the page that offers the SSO;
8. rate-limited forms answer 429 (``middleware.ratelimit.mark_rate_limited``), for template
   responses.

Jobs 1 and 2 only run for a request with a session cookie (the session store has a key):
without one the user is anonymous and nothing needs loading. The host-bound check used to
run just before allauth's ``AccountMiddleware`` and the binding just after it; that layer now
wraps this one (it reads the user only after the view, on a 404 of ``/accounts/``, when both
halves have run either way).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tenancy.operation import end_operation

from .audit import start_request_operation
from .mfa import mfa_setup_response
from .ratelimit import mark_rate_limited
from .session_binding import bind, sign_out_if_bound_elsewhere
from .sso_session import (
    refuse_sign_in_details_to_idp_session,
    refuse_sign_in_without_sso,
    sign_out_session_without_sso,
)
from .tenant import attach_signed_in_member
from .usage import record_usage


class AfterAuthenticationMiddleware:
    """Host-bound sessions, membership, required SSO, required 2FA, audit context, usage and
    the rate-limit page in one layer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.session.session_key is not None:  # a (well-formed) session cookie came
            sign_out_if_bound_elsewhere(request)
            attach_signed_in_member(request)
            sign_out_session_without_sso(request)
        response = refuse_sign_in_details_to_idp_session(request) or mfa_setup_response(request)
        if response is None:
            token = start_request_operation(request)
            try:
                response = self.get_response(request)
            finally:
                end_operation(token)
            response = refuse_sign_in_without_sso(request, response)
        record_usage(request)
        bind(request)
        return response

    def process_template_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return mark_rate_limited(response)
