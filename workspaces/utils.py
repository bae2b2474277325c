"""Cached workspace lookup used by the tenant middleware."""

from __future__ import annotations

from tenancy.cache import tenant_cache

from .cache_keys import workspace_key, workspace_names_key
from .models import Workspace


def get_cached_workspace(
    account_id: int, name: str, invalidate: bool = False
) -> Workspace | None:
    """The workspace ``name`` of an account, or None. Host labels are already validated.

    Names come from request hosts: unknown ones are cached per process only (never in
    Redis), re-checked everywhere once a workspace of the account is created or renamed.
    """
    return tenant_cache.get_or_load(
        workspace_key(account_id, name),
        lambda: Workspace.objects.filter(account_id=account_id, name=name).first(),
        invalidate=invalidate,
        miss_key=workspace_names_key(account_id),
    )
