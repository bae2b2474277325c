"""Bench: the product's full middleware stack and host routing, serving bench.urls."""

from smarter.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
ROOT_HOSTCONF = "bench.hosts"
DEFAULT_HOST = "platform"
