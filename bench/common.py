"""Shared helpers of the bench scripts (no Django import here)."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PG = "postgres://postgres@127.0.0.1:5432/"
# Overridable so that runs on a shared machine do not collide (defaults as documented).
DB = os.environ.get("BENCH_DB", "smarter_bench")
TENANTS_DB = os.environ.get("TENANTS_DB", "smarter_bench_tenants")  # read by tenants_project too
REDIS_DB = os.environ.get("BENCH_REDIS_DB", "15")
REDIS_URL = f"redis://127.0.0.1:6379/{REDIS_DB}"
PORT_BASE = int(os.environ.get("BENCH_PORT_BASE", "18000"))
# A verified custom domain of bench account 1 (created by driver.setup_product).
CUSTOM_DOMAIN = "app.bench-1.test"
# What the baseline leaves out of the product's middleware list (and all it changes). The
# membership check runs inside middleware.after_auth, which the baseline keeps: without
# TenantHostMiddleware there is no request.account, and it does nothing tenant-specific.
TENANT_MIDDLEWARES = frozenset({
    "middleware.tenant.TenantHostMiddleware",
    "middleware.tenant.TenantMembershipMiddleware",
})
# Django's own `startproject` middleware list: the reference for the whole stack's cost.
DJANGO_DEFAULT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# The header bench.stacks routes to the baseline handler (the product's stack without tenancy).
BASELINE_HEADER = ("X-Bench-Stack", "baseline")


def account_number(i: int) -> str:
    """The i-th bench account number (matches bench/seed.sql)."""
    return f"9{i // 10000:03d}-0000-{i % 10000:04d}"


def tenant_host(i: int) -> str:
    return f"{account_number(i)}.alpha.api.localhost"


def product_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=PG + DB,
        REDIS_URL=REDIS_URL,
        DEBUG="false",
        SECRET_KEY="bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz",
        SECURE_SSL_REDIRECT="false",
        LOG_LEVEL="WARNING",
        ROOT_DOMAIN="localhost",
        ENVIRONMENT="alpha",
        STATIC_ROOT=str(RESULTS / "static"),
        PYTHONPATH=f"{ROOT}{os.pathsep}{BENCH / '.venv-prof'}",
    )
    env.update(extra)
    return env


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def wait_for_push(timeout: float = 10.0) -> bool:
    """In a Django process: wait until pushed invalidations are active (True), or return
    False at once when they are switched off (the strict variant)."""
    import time

    from django.conf import settings

    from tenancy.cache import tenant_cache

    if not settings.TENANCY_PUSH_INVALIDATION:
        return False
    deadline = time.monotonic() + timeout
    while not tenant_cache.push.active():
        if time.monotonic() > deadline:
            raise RuntimeError("push invalidation never became active")
        time.sleep(0.01)
    return True
