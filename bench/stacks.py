"""The baseline stack and the product's stack side by side in one process.

Both are Django WSGI handlers under ``bench.settings_tenancy``; the baseline's middleware chain
is built without ``bench.common.TENANT_MIDDLEWARES``, as ``bench.settings_baseline`` builds it.
One process serving both takes process-to-process differences (memory layout, hash seeds) out
of their ratio. ``application`` serves gunicorn: a request carrying ``X-Bench-Stack: baseline``
goes to the baseline handler, any other to the product's; that one header test costs both alike.
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings_tenancy")

import django  # noqa: E402

django.setup()

from tenancy.wall import enter_platform  # noqa: E402

# A script, not a request: the database wall's explicit platform mode (requests it serves
# in-process set their own tenant's).
enter_platform("bench script")

from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.test.utils import override_settings  # noqa: E402

from bench.common import BASELINE_HEADER, DJANGO_DEFAULT_MIDDLEWARE, TENANT_MIDDLEWARES  # noqa: E402


def build() -> tuple[WSGIHandler, WSGIHandler]:
    """(baseline, product) handlers; middleware chains are built when a handler is made."""
    product = WSGIHandler()
    with override_settings(MIDDLEWARE=[m for m in settings.MIDDLEWARE if m not in TENANT_MIDDLEWARES]):
        baseline = WSGIHandler()
    return baseline, product


def build_references() -> dict[str, WSGIHandler]:
    """The references below the baseline: ``bare`` (no middleware at all: Django's handler,
    URL resolution and the view) and ``django_default`` (Django's ``startproject`` list)."""
    handlers = {}
    for name, chain in (("bare", []), ("django_default", DJANGO_DEFAULT_MIDDLEWARE)):
        with override_settings(MIDDLEWARE=chain):
            handlers[name] = WSGIHandler()
    return handlers


_baseline, _product = build()
_ENVIRON_KEY = "HTTP_" + BASELINE_HEADER[0].upper().replace("-", "_")


def application(environ, start_response):  # type: ignore[no-untyped-def]
    handler = _baseline if environ.get(_ENVIRON_KEY) == BASELINE_HEADER[1] else _product
    return handler(environ, start_response)
