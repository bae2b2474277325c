"""Throwaway service processes for tests: never the shared servers on their standard ports.

Each helper picks a free loopback port, starts the server with no persistence, waits until
it answers, yields its URL and terminates it (also when the test fails):
``throwaway_redis()`` and ``throwaway_postgres()``. For outage tests, ``redis_server()`` and
``postgres_server()`` yield a handle instead, whose ``stop()`` / ``start()`` take the SAME
server (same port, same data directory) down and bring it back mid-test.
``pgbouncer_server()`` puts a transaction-mode PgBouncer in front of a PostgreSQL;
``python -m tests.support.services pgbouncer --upstream-port 5432`` runs one in the foreground
(``.ci/run`` uses it for the suite run through the pooler).
"""

from __future__ import annotations

import argparse
import glob
import gzip
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

START_TIMEOUT = 15.0
PG_START_TIMEOUT = 30.0  # initdb + first start on a slow machine
STOP_TIMEOUT = 10.0


SHARED_PORTS = frozenset({5432, 6379})  # the machine's shared servers: never touch them


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (never a shared one)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in SHARED_PORTS:
            return port


def require_binary(name: str, *fallback_globs: str) -> str:
    """The path of ``name`` (on PATH, else the newest match of ``fallback_globs``); fails
    the test clearly when the machine lacks it.

    ``scripts/test`` installs the server binaries (``scripts/install-system binaries``).
    """
    path = shutil.which(name)
    if path is None:
        found = [p for pattern in fallback_globs for p in glob.glob(pattern)
                 if os.access(p, os.X_OK)]
        found.sort(key=lambda p: [int(n) for n in re.findall(r"\d+", p)])
        path = found[-1] if found else None
    if path is None:
        where = f" (nor in {', '.join(fallback_globs)})" if fallback_globs else ""
        pytest.fail(f"{name} is not installed{where}: run scripts/install-system binaries")
    return path


def posted_body(handler: Any) -> bytes:
    """The body a stand-in server's ``do_POST`` received (an ``http.server`` handler),
    decompressed as its ``Content-Encoding`` says (Sentry's SDK and OTLP exporters compress)."""
    body: bytes = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
    encoding = handler.headers.get("Content-Encoding", "")
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # type: ignore[import-not-found]

        return bytes(brotli.decompress(body))
    return body


def stop_process(proc: subprocess.Popen, timeout: float = 5.0) -> None:
    """Terminate ``proc`` (kill it if it does not exit in time) and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def _wait_until(ready: Any, proc: subprocess.Popen, what: str, timeout: float,
                log: Path | None = None) -> None:
    """Poll ``ready()`` until it is true; fail if ``proc`` exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}: {tail}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not answer within {timeout:.0f} s")
        time.sleep(0.05)


# --- Redis ---------------------------------------------------------------------------------
def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def redis_command(port: int, *args: str, timeout: float = 2.0) -> bytes:
    """Send one command to the Redis on ``port`` and return its raw reply (one read)."""
    parts = [f"*{len(args)}\r\n".encode()]
    for arg in args:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(b"".join(parts))
        return sock.recv(65536)


class RedisServer:
    """A private redis-server on one loopback port that can be stopped and started again.

    Nothing is persisted (``--save "" --appendonly no``): a restarted server is empty, as a
    replaced cache node would be.
    """

    def __init__(self, port: int, db: int = 0) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/{db}"
        self.proc: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        binary = require_binary("redis-server")
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            _wait_until(lambda: _redis_ping(self.port), self.proc,
                        f"redis-server on port {self.port}", START_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)
            self.proc = None

    def command(self, *args: str) -> bytes:
        return redis_command(self.port, *args)


@contextmanager
def redis_server(db: int = 0) -> Iterator[RedisServer]:
    """A started :class:`RedisServer` on a free port; stopped on exit."""
    server = RedisServer(free_port(), db)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@contextmanager
def throwaway_redis(db: int = 0) -> Iterator[str]:
    """A private redis-server on a free loopback port; yields ``redis://127.0.0.1:PORT/db``.

    Nothing is persisted (``--save "" --appendonly no``); the server is terminated on exit.
    """
    with redis_server(db) as server:
        yield server.url


@pytest.fixture
def redis_server_url() -> Iterator[str]:
    """Fixture form of :func:`throwaway_redis` (import it into a test module to use it)."""
    with throwaway_redis() as url:
        yield url


# --- PostgreSQL ----------------------------------------------------------------------------
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin/{}"  # Debian keeps the server binaries off PATH


def postgres_binaries() -> tuple[str, str]:
    """``(initdb, postgres)`` of one installation (the ``postgres`` on PATH, else Debian's
    newest ``/usr/lib/postgresql/<version>/bin``); fails the test when there is none."""
    postgres = os.path.realpath(require_binary("postgres", PG_BIN_GLOB.format("postgres")))
    initdb = os.path.join(os.path.dirname(postgres), "initdb")
    if not os.access(initdb, os.X_OK):
        initdb = os.path.realpath(require_binary("initdb", PG_BIN_GLOB.format("initdb")))
    return initdb, postgres


def _unprivileged_user() -> pwd.struct_passwd | None:
    """The account to run PostgreSQL as: None when we are not root (run as ourselves);
    as root (initdb and postgres refuse to run as root) the ``postgres`` system user, else
    ``nobody``."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    pytest.fail("running as root, and neither a 'postgres' nor a 'nobody' user exists to run "
                "PostgreSQL as (initdb refuses root): run scripts/install-system binaries")


def _pg_ready(port: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres",
                             connect_timeout=1):
            return True
    except psycopg.Error:
        return False


class PostgresServer:
    """A private PostgreSQL cluster in a temporary directory, listening on 127.0.0.1:PORT
    only (its Unix socket in the same directory), trust auth for user ``postgres``, no fsync.

    ``stop()`` is a fast shutdown (open connections are cut, as in a crash or failover of
    the database server); ``start()`` brings the same cluster back on the same port.
    When the tests run as root, initdb and postgres run as an unprivileged user (the child
    process switches user itself, so signals reach the postmaster directly).
    """

    def __init__(self, base: Path, port: int) -> None:
        self.base = base
        self.data = base / "data"
        self.sockets = base / "sock"
        self.log = base / "postgres.log"
        self.port = port
        self.url = f"postgres://postgres@127.0.0.1:{port}/postgres"
        self.proc: subprocess.Popen | None = None
        self._initdb, self._postgres = postgres_binaries()
        user = _unprivileged_user()
        self._as_user: dict[str, Any] = {}
        if user is not None:
            self._as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
            os.chown(base, user.pw_uid, user.pw_gid)
        self.sockets.mkdir()
        if user is not None:
            os.chown(self.sockets, user.pw_uid, user.pw_gid)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def initdb(self) -> None:
        result = subprocess.run(
            [self._initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8",
             "--locale=C", "--no-sync", "--no-instructions"],
            cwd=self.base, capture_output=True, text=True, timeout=120, **self._as_user,
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}): {result.stderr[-2000:]}")

    def start(self) -> None:
        if self.running:
            return
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [self._postgres, "-D", str(self.data), "-p", str(self.port),
                 "-k", str(self.sockets), "-c", "listen_addresses=127.0.0.1",
                 "-c", "fsync=off", "-c", "synchronous_commit=off",
                 "-c", "full_page_writes=off", "-c", "max_connections=40",
                 "-c", "shared_buffers=16MB"],
                cwd=self.base, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                **self._as_user,
            )
        try:
            _wait_until(lambda: _pg_ready(self.port), self.proc,
                        f"postgres on port {self.port}", PG_START_TIMEOUT, self.log)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Fast shutdown (SIGINT); immediate (SIGQUIT), then SIGKILL if it hangs."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        for sig in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
            proc.send_signal(sig)
            try:
                proc.wait(STOP_TIMEOUT)
                return
            except subprocess.TimeoutExpired:
                continue


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A started :class:`PostgresServer` on a free port (never 5432) in a fresh temporary
    directory; stopped and removed on exit."""
    base = Path(tempfile.mkdtemp(prefix="throwaway-pg-"))
    server = None
    try:
        server = PostgresServer(base, free_port())
        server.initdb()
        server.start()
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A private PostgreSQL on a free loopback port; yields
    ``postgres://postgres@127.0.0.1:PORT/postgres`` (trust auth, no fsync). The server is
    stopped and its data directory removed on exit."""
    with postgres_server() as server:
        yield server.url


# --- the role the suite connects as on PostgreSQL ----------------------------------------------
#: Row-level security binds every role but superusers and BYPASSRLS ones; the suite connects as
#: this one (created on demand, cluster-wide, LOGIN CREATEDB only) so the database wall is real.
WALL_ROLE = "smarter_wall"


def use_unprivileged_role(settings_dict: dict[str, Any], role: str = WALL_ROLE) -> bool:
    """Point ``settings_dict`` (a Django PostgreSQL database) at ``role`` when its user passes
    through row-level security, creating the role first; True if it changed anything."""
    if settings_dict.get("ENGINE") != "django.db.backends.postgresql":
        return False
    import psycopg

    params = {"host": settings_dict.get("HOST") or None, "port": settings_dict.get("PORT") or None,
              "user": settings_dict.get("USER") or None,
              "password": settings_dict.get("PASSWORD") or None, "dbname": "postgres"}
    with psycopg.connect(**{k: v for k, v in params.items() if v}, autocommit=True,
                         prepare_threshold=None) as conn:
        exempt = conn.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles "
                              "WHERE rolname = current_user").fetchone()
        if not (exempt and exempt[0]):
            return False
        try:
            conn.execute(f'CREATE ROLE "{role}" LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS')
        except psycopg.errors.DuplicateObject:
            pass
        except psycopg.errors.UniqueViolation:  # a concurrent CREATE ROLE of the same name
            pass
    settings_dict["USER"] = role
    settings_dict["PASSWORD"] = ""
    return True


def owner_role_url(url: str, role: str = WALL_ROLE) -> str:
    """``url`` (a superuser's, on a database made for one test) rewritten to connect as
    ``role``, which then owns that database and its ``public`` schema: the layout of an app's
    role on Heroku (it runs the migrations; row-level security binds it). ``url`` itself when its
    role is already bound by row-level security."""
    import psycopg

    parsed = urlparse(url)
    dbname = parsed.path.lstrip("/") or "postgres"
    with psycopg.connect(url, autocommit=True, prepare_threshold=None) as conn:
        exempt = conn.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles "
                              "WHERE rolname = current_user").fetchone()
        if not (exempt and exempt[0]):
            return url
        if parsed.port in SHARED_PORTS and dbname == "postgres":
            raise ValueError("refusing to hand the shared server's postgres database to a role")
        try:
            conn.execute(f'CREATE ROLE "{role}" LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS')
        except (psycopg.errors.DuplicateObject, psycopg.errors.UniqueViolation):
            pass
        conn.execute(f'ALTER DATABASE "{dbname}" OWNER TO "{role}"')
        conn.execute(f'ALTER SCHEMA public OWNER TO "{role}"')
    return parsed._replace(netloc=f"{role}@{parsed.hostname}:{parsed.port or 5432}").geturl()


# --- PgBouncer -----------------------------------------------------------------------------
PGBOUNCER_INI = """\
[databases]
; any database name is passed through: the suite's test_* databases are created, used and
; dropped through the pooler
* = host={upstream_host} port={upstream_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {base}/userlist.txt
admin_users = postgres
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
server_lifetime = 300
server_idle_timeout = 60
query_wait_timeout = 30
logfile = {base}/pgbouncer.log
"""


class PgBouncerServer:
    """A private PgBouncer (Debian's ``/usr/sbin/pgbouncer``) in transaction pooling mode on
    127.0.0.1:PORT, in front of the PostgreSQL at ``upstream_host:upstream_port``.

    Trust auth for user ``postgres`` (named in its auth file, as PgBouncer requires), every
    database name passed through. When the tests run as root it runs as the same
    unprivileged user as the throwaway PostgreSQL (PgBouncer refuses to run as root).
    """

    def __init__(self, base: Path, port: int, upstream_port: int,
                 upstream_host: str = "127.0.0.1", pool_size: int = 10) -> None:
        self.base = base
        self.port = port
        self.upstream_port = upstream_port
        self.log = base / "pgbouncer.log"
        self.ini = base / "pgbouncer.ini"
        self.proc: subprocess.Popen | None = None
        self._binary = require_binary("pgbouncer", "/usr/sbin/pgbouncer")
        self.ini.write_text(PGBOUNCER_INI.format(
            base=base, port=port, upstream_host=upstream_host, upstream_port=upstream_port,
            pool_size=pool_size))
        (base / "userlist.txt").write_text(f'"postgres" ""\n"{WALL_ROLE}" ""\n')
        user = _unprivileged_user()
        self._as_user: dict[str, Any] = {}
        if user is not None:
            self._as_user = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
            for path in (base, self.ini, base / "userlist.txt"):
                os.chown(path, user.pw_uid, user.pw_gid)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        if self.running:
            return
        self.proc = subprocess.Popen(
            [self._binary, str(self.ini)], cwd=self.base, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **self._as_user,
        )
        try:
            _wait_until(lambda: _pg_ready(self.port), self.proc,
                        f"pgbouncer on port {self.port}", START_TIMEOUT, self.log)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc)  # SIGTERM: immediate shutdown
            self.proc = None

    def show(self, what: str) -> list[dict[str, Any]]:
        """Rows of the admin console's ``SHOW <what>`` (e.g. ``POOLS``, ``CONFIG``)."""
        import psycopg
        from psycopg.rows import dict_row

        with psycopg.connect(self.url("pgbouncer"), autocommit=True, prepare_threshold=None,
                             cursor_factory=psycopg.ClientCursor, row_factory=dict_row) as conn:
            return conn.execute(f"SHOW {what}").fetchall()


@contextmanager
def pgbouncer_server(upstream_port: int, port: int | None = None,
                     pool_size: int = 10) -> Iterator[PgBouncerServer]:
    """A started :class:`PgBouncerServer` in front of ``127.0.0.1:upstream_port`` on a free
    port (or ``port``); stopped and its directory removed on exit."""
    base = Path(tempfile.mkdtemp(prefix="throwaway-pgbouncer-"))
    server = None
    try:
        server = PgBouncerServer(base, port or free_port(), upstream_port, pool_size=pool_size)
        server.start()
        yield server
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """``pgbouncer``: run a transaction-mode PgBouncer in the foreground until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.services")
    sub = parser.add_subparsers(dest="service", required=True)
    bouncer = sub.add_parser("pgbouncer", help="transaction-mode PgBouncer (trust auth)")
    bouncer.add_argument("--port", type=int, required=True, help="loopback port to listen on")
    bouncer.add_argument("--upstream-port", type=int, default=5432)
    bouncer.add_argument("--pool-size", type=int, default=20)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        with pgbouncer_server(args.upstream_port, args.port, args.pool_size) as server:
            print(f"pgbouncer (transaction mode) on {server.url('DBNAME')}", flush=True)
            while server.running:
                time.sleep(0.5)
            print(f"pgbouncer exited: {server.log.read_text(errors='replace')[-2000:]}",
                  file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
