"""Cached workspace lookup used by the tenant middleware."""

from __future__ import annotations

from tenancy.cache import tenant_cache

from .models import Workspace


def workspace_key(account_id: int, name: str) -> str:
    return f"workspace:account:{int(account_id)}:name:{name}"


def get_cached_workspace(
    account_id: int, name: str, invalidate: bool = False
) -> Workspace | None:
    """The workspace ``name`` of an account, or None. Host labels are already validated."""
    return tenant_cache.get_or_load(
        workspace_key(account_id, name),
        lambda: Workspace.objects.filter(account_id=account_id, name=name).first(),
        invalidate=invalidate,
    )
