"""Bench: the product's full stack with pushed invalidations switched off
(``TENANCY_PUSH_INVALIDATION=false``): every cached read checks its version token in Redis,
one round trip per lookup - the shipped default before push."""

from bench.settings_tenancy import *  # noqa: F403

TENANCY_PUSH_INVALIDATION = False
