"""Everything the product does once the user is known, as one middleware layer.

Five jobs used to be five middlewares, each a layer of Django's exception wrapper around the
next; on a trivial request the layers cost more than the jobs. Each job keeps its own module
and is called here in the order the separate layers ran:

1. membership (``middleware.tenant.attach_member``): ``request.user_profile``, strangers anonymous;
2. required 2FA (``middleware.mfa.mfa_setup_response``): a member without an authenticator
   app is sent to set one up, and the view does not run;
3. audit context (``middleware.audit.start_request_operation``) around the view;
4. usage counting (``middleware.usage.record_usage``) after the answer, set-up answers included;
5. rate-limited forms answer 429 (``middleware.ratelimit.mark_rate_limited``), for template
   responses.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from tenancy.operation import end_operation

from .audit import start_request_operation
from .mfa import mfa_setup_response
from .ratelimit import mark_rate_limited
from .tenant import attach_member
from .usage import record_usage


class AfterAuthenticationMiddleware:
    """Membership, required 2FA, audit context, usage and the rate-limit page in one layer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        attach_member(request)
        response = mfa_setup_response(request)
        if response is None:
            token = start_request_operation(request)
            try:
                response = self.get_response(request)
            finally:
                end_operation(token)
        record_usage(request)
        return response

    def process_template_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return mark_rate_limited(response)
