"""The one sign-in failure limiter, shared by every sign-in path (allauth's sign-in form, the
Django admin's, accepting an invitation as an existing user): failed attempts are counted per
account and client address; past ``LOGIN_RATE_LIMIT`` in ``LOGIN_RATE_WINDOW`` seconds
sign-in is refused (answered 429). The counting is ``tenancy.ratelimit``'s, shared with
the API keys' failure limit.

Other limits (sign-up, reset, find-my-accounts, invitation sends, MFA codes) use allauth's
rate limiter with the rates in ``ACCOUNT_RATE_LIMITS``; :func:`consume_or_429` answers a
refused one with the 429 page stating the real wait (and ``Retry-After``).
"""

from __future__ import annotations

import math
import time

from allauth.core.ratelimit import consume
from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenancy import metrics
from tenancy.client_ip import client_ip
from tenancy.ratelimit import give_back, is_limited, record_failure, shared_or_local, take_attempt

from .allauth_compat import get_cache_key, get_rates

RATE_LIMITED_CODES = frozenset({"rate_limited", "too_many_login_attempts"})
MESSAGE = "Too many failed attempts. Wait a few minutes and try again."


class LoginRateLimited(forms.ValidationError):
    """Too many failed sign-ins for this account from this address."""

    def __init__(self) -> None:
        super().__init__(MESSAGE, code="rate_limited")


def _key(request: HttpRequest | None) -> str:
    account = getattr(request, "account", None)
    address = client_ip(request) if request is not None else "unknown"
    return f"login:fail:{getattr(account, 'pk', 0)}:{address}"


#: Set on a request whose sign-in attempt :func:`check_login_allowed` counted already.
_TAKEN = "_login_attempt_taken"


def check_login_allowed(request: HttpRequest | None) -> None:
    """Count this sign-in attempt for this account and address before the password is checked
    (``tenancy.ratelimit.take_attempt``, atomic), or raise LoginRateLimited when the limit is
    reached: parallel guesses cannot all pass the check before any failure is counted. A
    wrong password keeps the count (:func:`record_login_failure`), a right one gives it back
    (:func:`login_succeeded`)."""
    key = _key(request)
    if request is None:
        if is_limited(key, settings.LOGIN_RATE_LIMIT):
            raise LoginRateLimited()
        return
    if getattr(request, _TAKEN, False):
        return  # counted once per request (a form cleaned twice, allauth and our form)
    if not take_attempt(key, settings.LOGIN_RATE_LIMIT, settings.LOGIN_RATE_WINDOW):
        raise LoginRateLimited()
    setattr(request, _TAKEN, True)


def record_login_failure(request: HttpRequest | None) -> None:
    """A failed sign-in for this account and address: the attempt counted by
    :func:`check_login_allowed` stays counted (counted now when none was)."""
    metrics.PASSWORD_FAILURE.inc()
    if request is not None and getattr(request, _TAKEN, False):
        setattr(request, _TAKEN, False)
        return
    record_failure(_key(request), settings.LOGIN_RATE_WINDOW)


def login_succeeded(request: HttpRequest | None) -> None:
    """The password was right, or it could not be checked (the database is away: the client
    is not to blame for an outage): the attempt :func:`check_login_allowed` counted is given
    back."""
    if request is not None and getattr(request, _TAKEN, False):
        setattr(request, _TAKEN, False)
        give_back(_key(request))


def is_rate_limited(form: forms.BaseForm | None) -> bool:
    """Whether a form was refused by a rate limit (its view answers 429)."""
    if form is None or not hasattr(form, "errors"):
        return False
    return any(
        e.code in RATE_LIMITED_CODES for errors in form.errors.as_data().values() for e in errors
    )


def retry_after(request: HttpRequest, action: str, key: str | None = None) -> int:
    """Seconds until allauth's limits of ``action`` (for this client and ``key``) let one more
    attempt through: when the oldest counted attempt of each exhausted rate expires."""
    wait = 0.0
    now = time.time()
    for rate in get_rates(app="allauth.account", action=action):
        if rate.per == "key" and key is None or rate.per == "user":
            continue
        cache_key = get_cache_key(request, app="allauth.account", action=action, rate=rate, key=key)
        history = shared_or_local.get(cache_key, []) or []
        if len(history) >= rate.amount:  # newest first
            wait = max(wait, history[rate.amount - 1] + rate.duration - now)
    return max(1, math.ceil(wait))


def too_many_requests(request: HttpRequest, seconds: int) -> HttpResponse:
    """The 429 page, naming the wait; ``Retry-After`` says it to machines."""
    minutes = math.ceil(seconds / 60)
    wait = f"{seconds} seconds" if seconds < 60 else f"{minutes} minute{'s' if minutes != 1 else ''}"
    response = render(request, "429.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(seconds)
    return response


def consume_or_429(request: HttpRequest, action: str, key: str | None = None) -> HttpResponse | None:
    """Count one attempt against allauth's limits of ``action``; the 429 answer if refused."""
    if consume(request, action=action, key=key):
        return None
    return too_many_requests(request, retry_after(request, action, key))
