"""The single-sign-on cache key: a leaf module, so the model, the cached providers
(``caching``) and the invalidation receivers all import it without a circle."""

from __future__ import annotations


def providers_key(account_id: int) -> str:
    """The account's enabled identity providers, as plain values."""
    return f"sso:providers:account:{int(account_id)}"
