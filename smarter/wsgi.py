"""WSGI entry point (gunicorn smarter.wsgi)."""

import os

import django
from django.core.handlers.wsgi import WSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter.settings")
django.setup(set_prefix=False)

from smarter import observability  # noqa: E402 - needs the settings

observability.setup()  # before the handler builds its middleware chain
application = WSGIHandler()
