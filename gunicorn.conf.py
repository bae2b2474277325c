"""gunicorn's configuration (read from the working directory; the Procfile names it too).

Prometheus multiprocess mode: every worker keeps its metric values in files under
``PROMETHEUS_MULTIPROC_DIR`` (a fresh temporary directory unless the operator sets one), so
``/metrics`` from any worker adds up all of them; a dead worker's live gauges are dropped.
The app logs one line per request itself (``smarter.access``: no query strings, request id
and tenant included), so gunicorn's own access log stays off unless asked for. With
``LOG_FORMAT=json`` gunicorn's own lines (start, workers, stop) are JSON too
(``smarter.gunicorn_logging``).
"""

import os
import shutil
import tempfile

from smarter.gunicorn_logging import logconfig_dict as _logconfig_dict

logger_class = "smarter.gunicorn_logging.Logger"


def _trusted_proxies() -> int:
    try:
        return int(os.environ.get("TRUSTED_PROXIES", "0").strip() or 0)
    except ValueError:
        return 0  # smarter/settings.py refuses the value with its name


# gunicorn takes the scheme from X-Forwarded-Proto only when the peer is one of these: only
# behind a proxy the app trusts (TRUSTED_PROXIES, read as smarter/settings.py reads it; the
# platform's router has no fixed address, hence any peer then). Otherwise a direct client's
# header would make its plain-HTTP request "https" (Django falls back to gunicorn's scheme).
forwarded_allow_ips = "*" if _trusted_proxies() > 0 else ""
# read like smarter/settings.py reads it (plain by default); not through Django's settings,
# which the arbiter must not load before it forks the workers
logconfig_dict = _logconfig_dict(os.environ.get("LOG_FORMAT", "plain"))


def on_starting(server):  # type: ignore[no-untyped-def]
    """In the arbiter, before any worker imports prometheus_client: a clean directory."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        directory = tempfile.mkdtemp(prefix="smarter-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    else:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):  # type: ignore[no-untyped-def]
    """Write the worker's usage counts before it goes."""
    try:
        from accounts import usage

        usage.flush()
    except Exception:  # noqa: BLE001, S110 - the worker is ending either way
        pass
