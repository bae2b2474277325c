"""Shared helpers of the bench scripts (no Django import here)."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
PG = "postgres://postgres@127.0.0.1:5432/"
DB = "smarter_bench"
TENANTS_DB = "smarter_bench_tenants"
REDIS_URL = "redis://127.0.0.1:6379/15"


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
