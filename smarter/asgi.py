"""ASGI entry point (gunicorn smarter.asgi)."""

import os

import django
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter.settings")
django.setup(set_prefix=False)

from smarter import observability  # noqa: E402 - needs the settings

observability.setup()  # before the handler builds its middleware chain
application = ASGIHandler()
