"""Audit events of what other apps announce by signal (the apps below the audit log do not
import it): each receiver records one event in the sender's transaction."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from accounts.signals import password_reset_by_operator

from .recorder import record


@receiver(password_reset_by_operator, dispatch_uid="audit.password_reset_by_operator")
def operator_reset_password(sender: Any, account_id: int, user_id: int, username: str,
                            **kwargs: Any) -> None:
    """``create_user --existing --reset-password``: the operator set a member's password."""
    record("user.password_reset", account_id=account_id, target_kind="auth.user",
           target_id=user_id, target_repr=username)
