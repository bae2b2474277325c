"""``TenantRequest``: the request type of views on tenant hosts (for type checking only)."""

from __future__ import annotations

from django.http import HttpRequest

from tenancy.hosts import HostInfo

from .models import Account, MetaDataWithOwnershipModel, UserProfile


class TenantRequest(HttpRequest):
    """What ``middleware.tenant.TenantHostMiddleware`` and the membership check
    (``middleware.tenant.attach_member``) attach to every request they let through. It lives
    here, below the middleware, so views in ``accounts`` and product apps can name it without
    importing upwards; the workspace is whatever product object ``TENANCY_WORKSPACE_RESOLVER`` returns."""

    host_info: HostInfo
    account: Account
    workspace: MetaDataWithOwnershipModel | None
    user_profile: UserProfile | None
