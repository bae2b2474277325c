"""The signals the accounts app sends. A leaf module: the models send from here and other
apps receive, so it imports none of them (the receivers of the accounts app itself are
:mod:`accounts.receivers`)."""

from __future__ import annotations

from django.dispatch import Signal

#: Sent after a UserProfile is first saved. Arguments: ``user_profile``.
user_profile_created = Signal()

#: Sent when an operator's command sets an existing user's password, inside the command's
#: transaction. Arguments: ``account_id``, ``user_id``, ``username``. The audit log records it.
password_reset_by_operator = Signal()
