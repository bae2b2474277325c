"""Throwaway service processes for tests: never the shared servers on their standard ports.

Each helper picks a free loopback port, starts the server with no persistence, waits until
it answers, yields its URL and terminates it (also when the test fails). Add further
services (e.g. ``throwaway_postgres()``) beside ``throwaway_redis()`` in the same shape.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

START_TIMEOUT = 15.0


SHARED_PORTS = frozenset({5432, 6379})  # the machine's shared servers: never touch them


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (never a shared one)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in SHARED_PORTS:
            return port


def require_binary(name: str) -> str:
    """The path of ``name``; fails the test clearly when the machine lacks it.

    ``scripts/test`` installs the server binaries (``scripts/install-system binaries``).
    """
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run scripts/install-system binaries")
    return path


def stop_process(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """Terminate ``proc`` (kill it if it does not exit in time) and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def throwaway_redis(db: int = 0) -> Iterator[str]:
    """A private redis-server on a free loopback port; yields ``redis://127.0.0.1:PORT/db``.

    Nothing is persisted (``--save "" --appendonly no``); the server is terminated on exit.
    """
    binary = require_binary("redis-server")
    port = free_port()
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--daemonize", "no", "--loglevel", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not _redis_ping(port):
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                raise RuntimeError(f"redis-server exited with {proc.returncode}: {err}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"redis-server did not answer PING on port {port}")
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/{db}"
    finally:
        stop_process(proc)
        if proc.stderr:
            proc.stderr.close()


@pytest.fixture
def redis_server_url() -> Iterator[str]:
    """Fixture form of :func:`throwaway_redis` (import it into a test module to use it)."""
    with throwaway_redis() as url:
        yield url
