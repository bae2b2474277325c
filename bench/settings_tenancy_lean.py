"""Bench only: tenancy_patched (L1 revalidation interval) + django-hosts' middleware pair
replaced by bench.lean.HostUrlconfMiddleware (URLconf from the already parsed host) +
TenantMembershipMiddleware skipped for requests without a session cookie."""

from bench.settings_tenancy_patched import *  # noqa: F403
from bench.settings_tenancy_patched import MIDDLEWARE as _M

MIDDLEWARE = []
for _name in _M:
    if _name.startswith("django_hosts."):
        continue
    if _name == "middleware.tenant.TenantMembershipMiddleware":
        _name = "bench.lean.NoCookieMembershipMiddleware"
    MIDDLEWARE.append(_name)
    if _name == "middleware.tenant.TenantHostMiddleware":
        MIDDLEWARE.append("bench.lean.HostUrlconfMiddleware")
