"""The test suite's settings: the project's own (``smarter.settings``, from the same
environment) with what only tests need. pytest names this module (pyproject.toml); a process a
test starts uses it only when the test says so (``DJANGO_SETTINGS_MODULE=tests.settings``), and
otherwise runs on the real settings as an operator's would."""

from smarter.settings import *  # noqa: F403
from smarter.settings import ALLOWED_HOSTS, STORAGES, TASK_BACKEND_CLASSES, TASKS

TESTING = True

# Django's test client's host, before the run-time entry for custom domains (kept last).
ALLOWED_HOSTS = [*ALLOWED_HOSTS[:-1], "testserver", ALLOWED_HOSTS[-1]]
# Fast hashing: the suite makes thousands of users; the production hasher is tested apart.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run in-process as they are enqueued; a test of the worker starts a process on the
# real settings with TASKS_BACKEND=database.
TASKS_BACKEND = "immediate"
TASKS = {"default": {**TASKS["default"], "BACKEND": TASK_BACKEND_CLASSES["immediate"]}}
# No manifest: the suite does not run collectstatic.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
# Test databases are rolled back: usage counters are flushed only when a test asks.
USAGE_FLUSH_INTERVAL = 3600.0
# Outbound fetches a tenant steers (tenancy.egress) refuse loopback and http: a test that runs an
# identity provider on loopback adds that one origin (http://127.0.0.1:<port>) for its duration.
EGRESS_ALLOWED_TEST_ORIGINS: list[str] = []
