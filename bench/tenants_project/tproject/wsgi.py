"""WSGI entry point of the django-tenants comparison project."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tproject.settings")
application = get_wsgi_application()
