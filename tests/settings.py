"""The test suite's settings: the project's own (``smarter.settings``, from the same
environment) with what only tests need. pytest names this module (pyproject.toml); a process a
test starts uses it only when the test says so (``DJANGO_SETTINGS_MODULE=tests.settings``), and
otherwise runs on the real settings as an operator's would."""

import os
from urllib.parse import urlparse

from smarter.env import redis_cache
from smarter.settings import *  # noqa: F403
from smarter.settings import ALLOWED_HOSTS, REDIS_URL, STORAGES, TASK_BACKEND_CLASSES, TASKS

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

# pytest-xdist runs the suite in several processes (gw0, gw1, ...): each gets a Redis database
# of its own (the URL's number plus its index), as the suite empties its database before every
# test. tests/conftest.py exports the URL to the processes a test starts.
XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if REDIS_URL and XDIST_WORKER:
    _url = urlparse(REDIS_URL)
    _db = int(_url.path.lstrip("/") or 0) + int(XDIST_WORKER.removeprefix("gw"))
    REDIS_URL = _url._replace(path=f"/{_db}").geturl()
    CACHES = {"default": redis_cache(REDIS_URL)}

# Every error mails ADMINS (no rate limit): one test's mail must not silence another's.
ERROR_MAIL_INTERVAL = 0.0

# Outbound fetches a tenant steers (tenancy.egress) refuse loopback and http: a test that runs an
# identity provider on loopback adds that one origin (http://127.0.0.1:<port>) for its duration.
EGRESS_ALLOWED_TEST_ORIGINS: list[str] = []
