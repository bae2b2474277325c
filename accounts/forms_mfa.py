"""allauth MFA forms, made to survive a reload: one pending TOTP secret until it is confirmed."""

from __future__ import annotations

from typing import Any

from allauth.mfa.totp.forms import ActivateTOTPForm
from allauth.mfa.totp.internal import auth
from django import forms


class PendingSecretActivateTOTPForm(ActivateTOTPForm):
    """allauth's activation form, without a new secret on every GET: the session keeps one
    pending secret until activation succeeds (allauth clears it then), so a reload, a
    second tab or a stray request to the page never invalidates the QR code on screen."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # allauth's __init__ regenerates the secret for an unbound form: skip it, keep its fields.
        self.user = kwargs.pop("user")
        forms.Form.__init__(self, *args, **kwargs)
        self.secret = auth.get_totp_secret(regenerate=False)
