"""In-process per-request cost through the WSGI handler (no network, no server).

Usage: DJANGO_SETTINGS_MODULE=bench.settings_X python bench/inproc.py HOST N [--profile FILE]
Prints microseconds per request (one number). With --profile, writes a pyinstrument report.

``--side-by-side HOST CUSTOM_HOST N`` (under bench.settings_tenancy): one process builds the
``bare`` (no middleware) and ``django_default`` (Django's startproject list) handlers and the
baseline next to the product's (``bench.stacks``), serves HOST on all of them and CUSTOM_HOST
(``-``: none) on the product's, alternating blocks of 100 requests; prints a JSON object of
median microseconds per request. Process-to-process differences (memory layout, hash seeds)
and drift on a shared machine then cancel out of the ratios.
"""

from __future__ import annotations

import io
import sys
import time

import django

django.setup()

from tenancy.wall import enter_platform  # noqa: E402

# A script, not a request: the database wall's explicit platform mode (requests it serves
# in-process set their own tenant's).
enter_platform("bench script")

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402

from bench.common import wait_for_push  # noqa: E402


def environ(host: str) -> dict:
    return {
        "REQUEST_METHOD": "GET", "PATH_INFO": "/", "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80", "HTTP_HOST": host, "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def serve(app: WSGIHandler, host: str, count: int) -> list[str]:
    """Send ``count`` GET / requests for ``host`` through ``app``; their status lines."""
    statuses: list[str] = []

    def start_response(status, headers, exc_info=None):  # type: ignore[no-untyped-def]
        statuses.append(status)

    for _ in range(count):
        body = app(environ(host), start_response)
        b"".join(body)
        body.close()
    return statuses


def warm(app: WSGIHandler, host: str) -> None:
    """Fill the caches for ``host``; every answer must be a 200 or the figures mean nothing."""
    statuses = serve(app, host, 200)
    assert all(s.startswith("200") for s in statuses), statuses[-1]


def side_by_side(host: str, custom_host: str, n: int) -> None:
    import json
    import statistics

    from bench.stacks import build, build_references

    baseline, product = build()
    variants = {name: (app, host) for name, app in build_references().items()}
    variants.update({"baseline": (baseline, host), "tenancy": (product, host)})
    if custom_host != "-":
        variants["tenancy_custom_domain"] = (product, custom_host)

    for app, h in variants.values():
        warm(app, h)
    wait_for_push()
    for app, h in variants.values():
        warm(app, h)
    block, us = 100, {name: [] for name in variants}
    for r in range(max(1, n // block)):
        for name in variants if r % 2 == 0 else reversed(list(variants)):
            app, h = variants[name]
            t0 = time.thread_time()  # CPU time: on a shared machine wall time counts waits
            serve(app, h, block)
            us[name].append((time.thread_time() - t0) / block * 1e6)
    print(json.dumps({name: statistics.median(v) for name, v in us.items()}))


def main() -> None:
    if sys.argv[1] == "--side-by-side":
        side_by_side(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    host, n = sys.argv[1], int(sys.argv[2])
    app = WSGIHandler()

    def run(count: int) -> None:
        serve(app, host, count)

    warm(app, host)
    if "middleware.tenant.TenantHostMiddleware" in settings.MIDDLEWARE and wait_for_push():
        warm(app, host)  # level 1 confirmed once more under push, as in a long-running worker
    if "--profile" in sys.argv:
        from pyinstrument import Profiler

        out = sys.argv[sys.argv.index("--profile") + 1]
        profiler = Profiler(interval=0.0002)
        profiler.start()
        run(n)
        profiler.stop()
        with open(out, "w") as fh:
            fh.write(profiler.output_text(unicode=False, color=False, show_all=False))
    t0 = time.perf_counter()
    run(n)
    print(round((time.perf_counter() - t0) / n * 1e6, 2))


if __name__ == "__main__":
    main()
