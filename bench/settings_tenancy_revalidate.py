"""Bench: the product's full stack with the operator option ``TENANCY_L1_REVALIDATE=1``
(a level-1 hit confirmed less than 1 s ago skips the Redis version read; other processes'
invalidations are then seen within 1 s instead of on the next read)."""

from bench.settings_tenancy import *  # noqa: F403

TENANCY_L1_REVALIDATE = 1.0
