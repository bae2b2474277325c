"""The custom-domain cache keys: a leaf module, so the model, the routing lookups and the
invalidation receivers all import it without a circle."""

from __future__ import annotations


def bucket_key(bucket: int) -> str:
    """The routes of one bucket of hostnames (``hostnames.bucket_of``)."""
    return f"domains:bucket:{int(bucket)}"


def canonical_key(account_id: int) -> str:
    """The account's canonical verified domain."""
    return f"domains:canonical:account:{int(account_id)}"
