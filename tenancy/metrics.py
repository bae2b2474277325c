"""The Prometheus metrics of every process (prometheus_client).

Under gunicorn ``PROMETHEUS_MULTIPROC_DIR`` is set (``gunicorn.conf.py``) before any worker
imports this module, so each value lives in a per-process memory-mapped file and
``/metrics`` (``smarter.metrics_view``) adds up every worker's. No label carries an account
number or anything else a client chooses: label values come from fixed sets (host kinds,
URL pattern names, HTTP methods, status classes). Per-account figures are daily counters in
the database instead (``accounts.usage``).
"""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from prometheus_client import Counter, Gauge, Histogram, values

_pid = [os.getpid()]
os.register_at_fork(after_in_child=lambda: _pid.__setitem__(0, os.getpid()))


def process_id() -> int:
    """This process's id, as ``os.getpid()`` but without its system call: prometheus_client's
    multiprocess values ask for it on every write (two per request) to notice a fork, and
    :func:`os.register_at_fork` tells this module instead."""
    return _pid[0]


if settings.PROMETHEUS_MULTIPROC_DIR:  # any process with it set (a command too) writes there
    os.makedirs(settings.PROMETHEUS_MULTIPROC_DIR, exist_ok=True)
    # the library's documented hook (``MultiProcessValue(process_identifier=...)``), set
    # before this module creates its metrics
    values.ValueClass = values.MultiProcessValue(process_identifier=process_id)

#: Requests and their latency in one histogram: its ``_count`` is the requests answered by
#: host kind, view, method and status class (one memory-mapped write per request fewer than
#: a separate counter: docs/BENCHMARKS.md).
REQUESTS = Histogram(
    "smarter_http_request_duration_seconds",
    "Time to answer a request inside the app, by host kind, view, method and status class "
    "(its _count: the requests answered)",
    ["host_kind", "view", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
CACHE = Counter(
    "smarter_tenant_cache_lookups_total",
    "Tenant cache lookups by level (l1 = this process, l2 = shared cache) and result",
    ["level", "result"],
)
L1_HIT, L2_HIT, L2_MISS = CACHE.labels("l1", "hit"), CACHE.labels("l2", "hit"), CACHE.labels("l2", "miss")
PUSH_SUBSCRIBED = Gauge(
    "smarter_cache_push_subscribed",
    "Processes whose cache-invalidation subscription is confirmed (pub/sub push)",
    multiprocess_mode="livesum",
)
PUSH_RECONNECTS = Counter(
    "smarter_cache_push_reconnects_total", "Cache-invalidation subscriptions lost and re-made"
)
SIGNIN_FAILURES = Counter(
    "smarter_signin_failures_total", "Failed sign-ins (password) and API-key authentications",
    ["kind"],
)
RATE_LIMITED = Counter(
    "smarter_rate_limit_refusals_total", "Requests refused by a rate limit (429), by view", ["view"]
)
PASSWORD_FAILURE, API_KEY_FAILURE = SIGNIN_FAILURES.labels("password"), SIGNIN_FAILURES.labels("api_key")

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_STATUS = ("1xx", "2xx", "3xx", "4xx", "5xx")
#: (host kind, view, method, status) -> the histogram's child: label lookups once per set.
_children: dict[tuple[str, str, str, int], Any] = {}


def observe_request(host_kind: str, view: str, method: str, status: int, seconds: float) -> None:
    """Count one answered request and its latency."""
    key = (host_kind, view, method, status)
    try:
        child = _children[key]
    except KeyError:
        name = method if method in _METHODS else "other"
        status_class = _STATUS[min(max(status // 100, 1), 5) - 1]
        child = REQUESTS.labels(host_kind, view, name, status_class)
        if len(_children) < 4096:  # views and kinds are finite; unknown methods/statuses bounded
            _children[key] = child
    child.observe(seconds)
    if status == 429:
        RATE_LIMITED.labels(view).inc()
