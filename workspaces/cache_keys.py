"""The workspace cache keys: a leaf module, so the model, the cached lookup (``utils``) and the
invalidation receivers (``signals``) all import it without a circle."""

from __future__ import annotations


def workspace_key(account_id: int, name: str) -> str:
    return f"workspace:account:{int(account_id)}:name:{name}"


def workspace_names_key(account_id: int) -> str:
    """The key whose version the account's cached unknown-label misses are checked against."""
    return f"workspace:account:{int(account_id)}:names"
