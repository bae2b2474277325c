"""Bench: the same project without the tenancy stack (no tenant middlewares)."""

from smarter.settings import *  # noqa: F403
from smarter.settings import MIDDLEWARE as _PRODUCT_MIDDLEWARE

TENANCY_ONLY = {
    "middleware.tenant.TenantHostMiddleware",
    "middleware.tenant.TenantMembershipMiddleware",
}
MIDDLEWARE = [m for m in _PRODUCT_MIDDLEWARE if m not in TENANCY_ONLY]
ROOT_URLCONF = "bench.urls"
