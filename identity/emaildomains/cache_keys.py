"""The email-domain cache key: a leaf module, so the model, the lookup and the invalidation
receiver all import it without a circle."""

from __future__ import annotations


def verified_key(account_id: int) -> str:
    """The account's verified email domains."""
    return f"emaildomains:verified:account:{int(account_id)}"
