"""WSGI entry point (gunicorn smarter.wsgi)."""

import os

import django
from django.core.handlers.wsgi import WSGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarter.settings")
django.setup(set_prefix=False)

from operations import telemetry  # noqa: E402 - needs the settings
from operations.checks import refuse_unsafe_production  # noqa: E402
from operations.runtime_role import use_runtime_role  # noqa: E402

use_runtime_role()  # RUNTIME_DATABASE_URL, when set: the two-role layout
refuse_unsafe_production("web")  # DEBUG off on an unsafe set-up: one line each, exit
telemetry.setup()  # before the handler builds its middleware chain
application = WSGIHandler()
