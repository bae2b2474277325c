"""Uncaught exceptions as log lines: a process or thread that dies of one says so in the log's
format (one JSON line with the exception, redacted, under ``LOG_FORMAT=json``), not as Python's
plain traceback on stderr."""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

crash_logger = logging.getLogger("smarter.crash")


def log_uncaught_exceptions() -> None:
    """An exception that ends the process (or a thread) is logged, as one line in the log's
    format with the exception, redacted, instead of Python's plain traceback on stderr."""

    def process_hook(kind: type[BaseException], error: BaseException, tb: Any) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        crash_logger.critical("uncaught exception: the process ends", exc_info=(kind, error, tb))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit or args.exc_value is None:
            return
        name = args.thread.name if args.thread is not None else "?"
        crash_logger.critical("uncaught exception: thread %s ends", name,
                              exc_info=(args.exc_type, args.exc_value, args.exc_traceback))

    sys.excepthook = process_hook
    threading.excepthook = thread_hook
