"""The Django project: settings, URLconfs, host routing, WSGI/ASGI entry points."""
