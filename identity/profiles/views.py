"""The profile page of every signed-in person, on any host (tenant hosts and the bare domain).

It shows and links allauth's own pages for what allauth owns (email addresses, password,
two-factor authentication and recovery codes) and edits the one thing it owns, the name.
"Sign out everywhere else" ends, through allauth.usersessions, every other session of the
person, whichever host it is bound to.
"""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.forms import ManageUserSessionsForm
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .forms import NameForm
from .sessions import active_sessions


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """GET: the page; POST: save the name."""
    user = request.user
    form = NameForm(request.POST or None, instance=user)  # type: ignore[misc]
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Your name is saved.")
        return redirect("profile")
    kinds = set(Authenticator.objects.filter(user_id=user.pk).values_list("type", flat=True))
    return render(request, "profiles/profile.html", {
        "form": form,
        "emails": EmailAddress.objects.filter(user_id=user.pk).order_by("-primary", "email"),
        "has_password": user.has_usable_password(),  # type: ignore[union-attr]
        "totp_on": Authenticator.Type.TOTP in kinds,
        "recovery_codes_on": Authenticator.Type.RECOVERY_CODES in kinds,
        "sessions": active_sessions(request),
    }, status=400 if form.errors else 200)


@require_POST
@login_required
def end_other_sessions(request: HttpRequest) -> HttpResponse:
    """Sign out every other session of this person, on every host; this one stays."""
    ManageUserSessionsForm(request.POST, request=request).save(request)
    messages.success(request, "You are signed out everywhere else.")
    return redirect("profile")
