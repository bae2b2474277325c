"""Bench: the same project without the tenancy stack (no tenant middlewares)."""

from bench.common import TENANT_MIDDLEWARES
from smarter.settings import *  # noqa: F403
from smarter.settings import MIDDLEWARE as _PRODUCT_MIDDLEWARE

MIDDLEWARE = [m for m in _PRODUCT_MIDDLEWARE if m not in TENANT_MIDDLEWARES]
ROOT_URLCONF = "bench.urls"
