"""Required SSO on every request to an account's hosts (``Account.require_sso``): a member's
session there must come from one of the account's own identity providers within its
``sso_session_max_age`` (:func:`identity.trust.session_admitted`), whatever signed it in:
the password form, a reset, an invitation, a hand-off from the chooser or the switcher, the
admin. Checked by ``middleware.after_auth`` twice:

* before the view, a member's session that does not qualify (made by a password or a
  hand-off, older than the max age, made before the account turned SSO on) is signed out
  here, and the request goes on as anonymous (the sign-in page offers the SSO buttons);
* after the view, a session this request signed in that does not qualify is signed out again
  and answered with the "single sign-on required" page.

Both read only the cached account flag first: accounts that do not require SSO pay nothing.
A session an account's IdP alone made counts for that account only: it does not change the
sign-in details (addresses, password, two-factor) of a person who belongs to other accounts.
"""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse

from accounts.caching import get_cached_profile
from identity.sso.policy import sso_required_page
from identity.trust import SIGN_IN_DETAILS_PATHS, may_change_sign_in_details, session_admitted


def sign_out_session_without_sso(request: HttpRequest) -> None:
    """Before the view (after the membership is known): see the module's docstring."""
    account = getattr(request, "account", None)
    profile = getattr(request, "user_profile", None)
    if account is None or not account.require_sso or profile is None:
        return
    if not session_admitted(request, account, request.user, is_admin=profile.is_staff):
        logout(request)
        request.user_profile = None  # type: ignore[attr-defined]


def refuse_sign_in_details_to_idp_session(request: HttpRequest) -> HttpResponse | None:
    """Before the view: a session an account's IdP alone made does not change the addresses,
    password or two-factor of a person who belongs to other accounts too (403 page)."""
    if not request.path_info.startswith(SIGN_IN_DETAILS_PATHS):
        return None
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    if may_change_sign_in_details(request, user, getattr(request, "account", None)):
        return None
    from django.shortcuts import render

    return render(request, "error.html", {
        "status": 403, "title": "Sign in with your password",
        "message": "Your sign-in details serve your other accounts too: to change them, sign in "
                   "with your password and second factor (not single sign-on)."}, status=403)


def refuse_sign_in_without_sso(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """After the view: a member signed in by this request without the account's SSO is
    signed out again and sees the page that offers it."""
    account = getattr(request, "account", None)
    if account is None or not account.require_sso:
        return response
    session = getattr(request, "session", None)
    user = getattr(request, "user", None)
    if session is None or not session.accessed or session.get(SESSION_KEY) is None:
        return response
    if user is None or not user.is_authenticated:
        return response
    profile = get_cached_profile(user.pk, account.pk)
    if profile is None or not profile.is_active:
        return response  # not a member here: the membership check answers for them
    if session_admitted(request, account, user, is_admin=profile.is_staff):
        return response
    logout(request)
    return sso_required_page(request)
