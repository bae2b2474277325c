"""Password-reset keys bound to the host whose link carries them.

allauth's keys (Django's token generator, plus the user's addresses) open the reset form on
any host that serves the user: a key mailed for an account's number host also worked on its
custom domain, the bare domain and the person's other accounts' hosts. Here the host is part
of the signed value, so a key works only on the host that issued it (where its link points).
Every place that makes a key (the reset form, the welcome mail) and the one that checks it
(allauth's ``user_token`` form, ``ACCOUNT_FORMS``) use :func:`reset_keys_for`."""

from __future__ import annotations

import functools
from typing import Any

from django.http import HttpRequest


@functools.cache
def _generator_class() -> type:
    # imported when first used: allauth's forms module imports the project's adapter, which
    # imports this app
    from allauth.account.forms import EmailAwarePasswordResetTokenGenerator

    class HostBoundResetKeys(EmailAwarePasswordResetTokenGenerator):
        """allauth's reset keys with the issuing host in the signed value."""

        def __init__(self, host: str) -> None:
            super().__init__()
            self.host = host.lower()

        def _make_hash_value(self, user: Any, timestamp: int) -> str:
            return f"{super()._make_hash_value(user, timestamp)}|host:{self.host}"

    return HostBoundResetKeys


def reset_keys_for(host: str) -> Any:
    """The token generator whose keys work on ``host`` only (a host name, no port)."""
    return _generator_class()(host)


def request_host(request: HttpRequest | None) -> str:
    """The host a request reached, as the tenant middleware read it ("" outside a request:
    a key made there opens nothing)."""
    info = getattr(request, "host_info", None)
    return str(info.host) if info is not None else ""
