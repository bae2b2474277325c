"""Bench only: the tenancy stack with the *proposed* level-1 revalidation interval.

``bench.lean.PatchL1Revalidation`` (first middleware; it patches at startup and then removes
itself) installs a local patched copy of ``TwoLevelCache.get_or_load``; product code is
untouched. A level-1 hit whose version token was confirmed against level 2 less than
``TENANCY_L1_REVALIDATE`` seconds ago is served without the level-2 round trip. Staleness
after an invalidation in *another* process is bounded by that interval (same process: none).
"""

from bench.settings_tenancy import *  # noqa: F403
from bench.settings_tenancy import MIDDLEWARE as _M

TENANCY_L1_REVALIDATE = 1.0
MIDDLEWARE = ["bench.lean.PatchL1Revalidation", *_M]
