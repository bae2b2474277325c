"""Build the app as the Heroku Python buildpack (``heroku/python``) builds it, then run it as the
platform runs it. ``scripts/build-check`` (a CI step of ``.ci/run``) runs :func:`main`.

What the buildpack does with this repository, and what is checked here in the same order:

1. It detects a uv project (``pyproject.toml`` + ``uv.lock`` + ``.python-version`` at the root,
   no ``requirements.txt`` / ``Pipfile`` / ``poetry.lock`` beside them) and installs the Python
   that ``.python-version`` names.
2. ``uv sync --locked --no-default-groups --compile-bytecode`` into that Python: exactly the
   lock, no dev tools. Here: into a new virtualenv, from the committed files (``git ls-files``)
   copied to a temporary directory, as ``git push`` sends them.
3. ``python manage.py collectstatic --noinput`` at build time, with the app's config vars but
   no reachable database or cache (here: their URLs point at closed ports).
4. At run time every process gets only the config vars: those ``app.json`` declares (values,
   generated secrets, the operator's values for required ones), the add-ons' URLs
   (``DATABASE_URL``, ``REDIS_URL``) and what the platform sets (``PORT``, ``DYNO``). Here the
   add-ons are a throwaway PostgreSQL and Redis (:mod:`tests.support.services`). The Procfile's
   ``release`` command runs (it must exit 0), then ``web`` must answer ``/healthz`` with 200 and
   serve the collected static files, and ``worker`` must run one queued task. Then the same
   again in the two-role layout: the owner grants a runtime role row access
   (``grant_runtime_role``), web and worker connect with ``RUNTIME_DATABASE_URL`` and are seen
   connected as that role only.

Procfile and ``app.json`` are read as the platform reads them: commands run through
``bash -c``, never restated here. Whatever the build lacks (a config var, a system library,
an executable, a stale lock) stops it with a message naming it.

Usage: ``python -m tests.support.slug_build --set ROOT_DOMAIN=example.com [--keep]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import psycopg
import pytest
from packaging.specifiers import SpecifierSet

from tests.support.services import (
    WALL_ROLE,
    free_port,
    owner_role_url,
    throwaway_postgres,
    throwaway_redis,
)

ROOT = Path(__file__).resolve().parents[2]
# The add-ons app.json may name, and the config vars each one sets on the app.
ADDON_VARS = {"heroku-postgresql": ("DATABASE_URL",), "heroku-redis": ("REDIS_URL",)}
# Files that make the buildpack pick another package manager (it refuses several at once).
OTHER_PACKAGE_MANAGER_FILES = ("requirements.txt", "Pipfile", "Pipfile.lock", "poetry.lock")
# What the buildpack runs; the only commands not read from the repository.
BUILDPACK_SYNC = ["uv", "sync", "--locked", "--no-default-groups", "--compile-bytecode",
                  "--no-progress"]
BUILDPACK_COLLECTSTATIC = "python manage.py collectstatic --noinput"
PROBE_TASK = "lifecycle.tasks.delete_expired_exports"  # a task with no arguments


class BuildError(Exception):
    """A build or run step failed; the message says which and what is missing."""


def step(title: str) -> None:
    print(f"==> build: {title}", flush=True)


# --- reading the repository as the platform does ----------------------------------------
def read_procfile(path: Path) -> dict[str, str]:
    """``{process type: command}`` of a Procfile (``name: command`` lines)."""
    if not path.is_file():
        raise BuildError(f"{path.name} is missing: the platform needs it to start any process")
    processes: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9_-]+):\s*(.+)", line.strip())
        if match is None:
            raise BuildError(f"{path.name} line {number} is not 'name: command': {line!r}")
        processes[match.group(1)] = match.group(2)
    return processes


def read_app_json(path: Path) -> dict:
    """The parsed ``app.json`` (a clear error when it is missing or not JSON)."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise BuildError(f"{path.name} is missing: it declares the config vars and add-ons") from exc
    except json.JSONDecodeError as exc:
        raise BuildError(f"{path.name} is not valid JSON: {exc}") from exc


def config_vars(app: dict, operator: dict[str, str]) -> dict[str, str]:
    """The config vars an app created from ``app.json`` has: each declared var's ``value``, a
    generated secret for ``"generator": "secret"``, the operator's value where given. A
    required var (app.json's default) with neither value nor operator value is an error, and so
    is an operator value for a var ``app.json`` does not declare."""
    declared = app.get("env", {})
    undeclared = sorted(set(operator) - set(declared))
    if undeclared:
        raise BuildError(f"config var(s) {', '.join(undeclared)} are not declared in app.json: "
                         "declare them there (with a description) before relying on them")
    env: dict[str, str] = {}
    missing = []
    for name, spec in declared.items():
        spec = {"value": spec} if isinstance(spec, str) else spec
        if name in operator:
            env[name] = operator[name]
        elif "value" in spec:
            env[name] = str(spec["value"])
        elif spec.get("generator") == "secret":
            env[name] = secrets.token_urlsafe(48)
        elif spec.get("required", True):
            missing.append(f"{name} ({spec.get('description', 'no description')})")
    if missing:
        raise BuildError("app.json requires config var(s) with no value: " + "; ".join(missing)
                         + ". Set them (--set NAME=VALUE here, heroku config:set on the app)")
    return env


def addon_vars(app: dict, urls: dict[str, str]) -> dict[str, str]:
    """The config vars the add-ons of ``app.json`` set, with ``urls`` as their values."""
    env: dict[str, str] = {}
    for addon in app.get("addons", []):
        plan = addon if isinstance(addon, str) else addon.get("plan", "")
        service = plan.split(":", 1)[0]
        if service not in ADDON_VARS:
            raise BuildError(f"app.json names add-on {plan!r}, which this check cannot stand in "
                             f"for (known: {', '.join(ADDON_VARS)}): extend ADDON_VARS")
        for name in ADDON_VARS[service]:
            env[name] = urls[name]
    return env


def python_version(root: Path) -> str:
    """The ``.python-version`` the buildpack installs, checked against ``requires-python``."""
    path = root / ".python-version"
    if not path.is_file():
        raise BuildError(".python-version is missing: the buildpack requires it for uv projects")
    version = path.read_text().strip()
    requires = tomllib.loads((root / "pyproject.toml").read_text())["project"]["requires-python"]
    if not SpecifierSet(requires).contains(f"{version}.0"):
        raise BuildError(f".python-version says {version}, outside requires-python {requires!r}")
    return version


def detect(root: Path, app: dict) -> None:
    """The buildpack's detection: a uv project, nothing that makes it choose another tool."""
    for name in ("pyproject.toml", "uv.lock"):
        if not (root / name).is_file():
            raise BuildError(f"{name} is not in the pushed tree (is it committed?): the buildpack "
                             "installs a uv project from pyproject.toml + uv.lock")
    others = [name for name in OTHER_PACKAGE_MANAGER_FILES if (root / name).exists()]
    if others:
        raise BuildError(f"{', '.join(others)} beside uv.lock: the buildpack would not use "
                         "uv.lock (or refuse several package manager files); remove them")
    buildpacks = [pack.get("url") for pack in app.get("buildpacks", [])]
    if buildpacks and "heroku/python" not in buildpacks:
        raise BuildError(f"app.json's buildpacks {buildpacks} do not include heroku/python")


def pushed_tree(root: Path, dest: Path) -> None:
    """Copy the files git tracks (what ``git push`` sends) to ``dest``."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True,
                            check=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = root / name
        if source.is_file():  # a tracked file deleted in the work tree is not pushed
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


# --- building ------------------------------------------------------------------------------
def run(title: str, argv: list[str] | str, cwd: Path, env: dict[str, str],
        timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run a build or release step; a non-zero exit is a :class:`BuildError` quoting its end."""
    shell = isinstance(argv, str)
    command = ["bash", "-c", argv] if shell else argv
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise BuildError(f"{title} did not finish within {timeout:.0f} s") from exc
    except FileNotFoundError as exc:
        raise BuildError(f"{title}: {command[0]} is not installed") from exc
    if done.returncode != 0:
        output = (done.stderr or done.stdout).strip().splitlines()
        reason = next((line for line in reversed(output) if line.strip()), "(no output)")
        tail = "\n    ".join(output[-15:])
        raise BuildError(f"{title} failed (exit {done.returncode}): {reason}\n    {tail}")
    return done


def install(build: Path, python: str, venv: Path) -> None:
    """``uv sync`` exactly as the buildpack runs it, into a new virtualenv."""
    uv = shutil.which("uv")
    if uv is None:
        raise BuildError("uv is not on PATH: run through scripts/build-check (it installs uv)")
    env = {
        "PATH": f"{Path(uv).parent}:/usr/bin:/bin", "HOME": os.environ.get("HOME", str(build)),
        "UV_PROJECT_ENVIRONMENT": str(venv), "UV_PYTHON": python,
        "UV_PYTHON_DOWNLOADS": "never", "UV_NO_MANAGED_PYTHON": "1",
    }
    for name in ("UV_CACHE_DIR", "SSL_CERT_FILE", "UV_INDEX_URL", "UV_DEFAULT_INDEX"):
        if name in os.environ:
            env[name] = os.environ[name]
    run(" ".join(BUILDPACK_SYNC), BUILDPACK_SYNC, build, env, timeout=600)


def fingerprint(build: Path, python: Path, exact: bool = False) -> str:
    """The runtime packages line of ``scripts/lock_fingerprint.py`` for ``python`` (``exact``:
    nothing else may be installed)."""
    done = run("the installed packages against uv.lock",
               [sys.executable, str(build / "scripts" / "lock_fingerprint.py"),
                "--python", str(python), "--project", str(build), *(["--exact"] * exact)],
               build, {**os.environ})
    return done.stdout.strip()


def missing_libraries(venv: Path) -> list[str]:
    """Shared libraries that the compiled modules installed in ``venv`` need and the machine
    lacks (a system package to install, e.g. ``libpq.so.5`` for non-binary psycopg)."""
    if shutil.which("ldd") is None:
        raise BuildError("ldd is not installed (Debian package libc-bin)")
    missing = []
    for module in sorted(venv.glob("lib/python*/site-packages/**/*.so")):
        out = subprocess.run(["ldd", str(module)], capture_output=True, text=True).stdout
        missing += [f"{line.split()[0]} (needed by {module.relative_to(venv)})"
                    for line in out.splitlines() if "not found" in line]
    return missing


def executables(processes: dict[str, str], path: str) -> list[str]:
    """Process types whose command's program is not on the dynos' ``PATH``."""
    absent = []
    for name, command in processes.items():
        words = [w for w in shlex.split(command) if not re.fullmatch(r"[A-Za-z_]\w*=.*", w)]
        if words and shutil.which(words[0], path=path) is None:
            absent.append(f"{name} runs {words[0]!r}, which the slug does not install")
    return absent


# --- running ---------------------------------------------------------------------------------
@contextmanager
def process(command: str, cwd: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A Procfile process (``bash -c``) in its own process group; SIGTERM to it at the end."""
    with log.open("w") as out:
        proc = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def log_tail(log: Path) -> str:
    return "\n    ".join(log.read_text(errors="replace").strip().splitlines()[-15:])


def http_get(port: int, path: str, host: str) -> tuple[int, bytes]:
    """GET as the router forwards it (plain HTTP, ``X-Forwarded-Proto: https``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host, "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def check_web(proc: subprocess.Popen, port: int, host: str, static: str, log: Path) -> str:
    """Wait for ``/healthz`` to answer 200 with the database and the cache ok (the worker is
    not started yet: "degraded" for that alone); then one static file."""
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            raise BuildError(f"Procfile web exited with {proc.returncode}:\n    {log_tail(log)}")
        try:
            status, body = http_get(port, "/healthz", host)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise BuildError(f"Procfile web did not listen on $PORT={port} within 60 s:"
                                 f"\n    {log_tail(log)}") from None
            time.sleep(0.2)
    health = json.loads(body or b"{}")
    if status != 200 or health.get("database") != "ok" or health.get("cache") != "ok":
        raise BuildError(f"/healthz answered {status} {body[:200]!r}:\n    {log_tail(log)}")
    status, _ = http_get(port, f"/static/{static}", host)
    if status != 200:
        raise BuildError(f"/static/{static} (collected at build time) answered {status}")
    return f"/healthz 200 {body.decode().strip()}; /static/{static} 200"


def check_health_with_worker(port: int, host: str, log: Path) -> str:
    """With ``worker`` running beside ``web``, ``/healthz`` must say "ok" (its heartbeat seen)."""
    deadline = time.monotonic() + 30
    while True:
        status, body = http_get(port, "/healthz", host)
        if status == 200 and json.loads(body or b"{}").get("status") == "ok":
            return f"/healthz 200 {body.decode().strip()}"
        if time.monotonic() > deadline:
            raise BuildError(f"/healthz with the worker running answered {status} {body[:300]!r}:"
                             f"\n    {log_tail(log)}")
        time.sleep(0.5)


ENQUEUE = "from django.utils.module_loading import import_string as i; print(i({!r}).enqueue().id)"
AWAIT = """
import time
from django.utils.module_loading import import_string
task = import_string({task!r})
deadline = time.monotonic() + {seconds}
while True:
    result = task.get_result({id!r})
    if result.status not in ("READY", "RUNNING") or time.monotonic() > deadline:
        break
    time.sleep(0.5)
print(result.status, result.return_value if result.status == "SUCCESSFUL" else "")
"""


def check_worker(proc: subprocess.Popen, build: Path, env: dict[str, str], log: Path,
                 task: str) -> str:
    """Queue ``task`` from a one-off process; the worker must run it successfully."""
    task_id = run(f"enqueue {task}", ["python", "manage.py", "shell", "-c", ENQUEUE.format(task)],
                  build, env).stdout.strip().splitlines()[-1]
    done = run(f"wait for {task}", ["python", "manage.py", "shell", "-c",
                                    AWAIT.format(task=task, id=task_id, seconds=60)],
               build, env, timeout=120).stdout.strip().splitlines()[-1]
    if not done.startswith("SUCCESSFUL"):
        state = "exited" if proc.poll() is not None else "running"
        raise BuildError(f"Procfile worker ({state}) did not run {task}: {done}\n    {log_tail(log)}")
    return f"{task} {done}"


# --- the whole build ---------------------------------------------------------------------------
def build_and_run(root: Path, work: Path, operator: dict[str, str], probe_task: str) -> None:
    """Every step of the module docstring; raises :class:`BuildError` at the first failure."""
    build, venv = work / "app", work / "venv"
    build.mkdir()
    step(f"the pushed tree (git ls-files of {root}) -> {build}")
    pushed_tree(root, build)
    app = read_app_json(build / "app.json")
    processes = read_procfile(build / "Procfile")
    for needed in ("web", "release", "worker"):
        if needed not in processes:
            raise BuildError(f"Procfile has no {needed!r} process")
    detect(build, app)
    version = python_version(build)
    step(f"stack {app.get('stack', '(default)')}, Python {version} (.python-version), "
         f"release phase: {processes['release']}")
    python = shutil.which(f"python{version}")
    if python is None:
        raise BuildError(f"Python {version} (.python-version) is not installed on this machine")
    env_app = config_vars(app, operator)  # before installing: a missing var fails at once
    run("uv.lock against pyproject.toml", ["bash", str(build / "scripts" / "check-lock"),
                                           str(build)], build, {**os.environ})

    step(" ".join(BUILDPACK_SYNC))
    started = time.monotonic()
    install(build, python, venv)
    step(f"installed in {time.monotonic() - started:.1f} s")
    theirs = fingerprint(build, venv / "bin" / "python", exact=True)  # no dev tools
    print(theirs, "(build)", flush=True)
    local = root / ".venv" / "bin" / "python"
    if local.exists():
        ours = fingerprint(build, local)
        print(ours, "(.venv of scripts/test, scripts/serve and CI)", flush=True)
        if ours.split()[-1] != theirs.split()[-1]:
            raise BuildError("the build installed other runtime versions than .venv: "
                             "re-run . scripts/_venv.sh, then compare the lines above")

    step("system libraries of compiled modules (ldd)")
    missing = missing_libraries(venv)
    if missing:
        raise BuildError("system libraries missing (install the Debian/stack package that "
                         "provides them):\n    " + "\n    ".join(missing))
    dyno_path = f"{venv / 'bin'}:/usr/local/bin:/usr/bin:/bin"
    absent = executables(processes, dyno_path)
    if absent:
        raise BuildError("Procfile: " + "; ".join(absent))

    base = {"PATH": dyno_path, "HOME": str(build), "LANG": "C.UTF-8", "PYTHONUNBUFFERED": "1"}
    closed = {"DATABASE_URL": f"postgres://postgres@127.0.0.1:{free_port()}/none",
              "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    env_build = {**base, **env_app, **addon_vars(app, closed)}
    print("    config vars (app.json + add-ons):", ", ".join(sorted(set(env_build) - set(base))),
          flush=True)
    step(f"{BUILDPACK_COLLECTSTATIC} (no database: add-on URLs point at closed ports)")
    run("collectstatic at build time", BUILDPACK_COLLECTSTATIC, build, env_build)
    manifest = build / "staticfiles" / "staticfiles.json"  # STATIC_ROOT's default
    if not manifest.exists():
        raise BuildError("collectstatic wrote no staticfiles/staticfiles.json: production must "
                         "collect hashed files (whitenoise's CompressedManifestStaticFilesStorage)")
    static = min(json.loads(manifest.read_text())["paths"].values())
    step("python manage.py check --deploy --fail-level WARNING")
    run("check --deploy", ["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        build, env_build)

    with throwaway_postgres() as database_url, throwaway_redis() as redis_url:
        # the add-on's credential owns the database and is no superuser (as on Heroku):
        # production refuses a role that row-level security does not bind
        urls = {"DATABASE_URL": owner_role_url(database_url), "REDIS_URL": redis_url}
        runtime = {**base, **env_app, **addon_vars(app, urls)}
        step(f"release: {processes['release']}")
        run("Procfile release", processes["release"], build, {**runtime, "DYNO": "release.1"},
            timeout=300)
        host = env_app.get("ROOT_DOMAIN", "localhost")
        step("one role: web and worker as the owner")
        serve(processes, build, work, runtime, host, static, probe_task)

        # the two-role layout (docs/OPERATIONS.md, "Database roles"): a credential with row
        # access only, as `heroku pg:credentials:create` makes, granted by the owner
        runtime_url = runtime_role_url(database_url)
        step(f"two roles: python manage.py grant_runtime_role {RUNTIME_ROLE} (as the owner)")
        run("grant_runtime_role", ["python", "manage.py", "grant_runtime_role", RUNTIME_ROLE],
            build, {**runtime, "DYNO": "run.2"})
        step(f"two roles: web and worker as {RUNTIME_ROLE} (RUNTIME_DATABASE_URL)")
        serve(processes, build, work, {**runtime, "RUNTIME_DATABASE_URL": runtime_url}, host,
              static, probe_task, expect_role=(database_url, RUNTIME_ROLE))


RUNTIME_ROLE = "smarter_runtime"


def runtime_role_url(url: str) -> str:
    """A login role with no privileges on ``url``'s database (made as its superuser, the
    stand-in for the platform's credential service); its URL."""
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute(f'CREATE ROLE "{RUNTIME_ROLE}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE')
        except psycopg.errors.DuplicateObject:
            pass
    parsed = urlparse(url)
    return parsed._replace(netloc=f"{RUNTIME_ROLE}@{parsed.hostname}:{parsed.port or 5432}").geturl()


def roles_connected(url: str) -> set[str]:
    """The roles holding connections to ``url``'s database, read as its superuser."""
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute("SELECT DISTINCT usename FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return {name for (name,) in rows if name}


def serve(processes: dict[str, str], build: Path, work: Path, env: dict[str, str], host: str,
          static: str, probe_task: str, expect_role: tuple[str, str] | None = None) -> None:
    """Run web, then worker beside it, and check each answers (``/healthz``, a static file, a
    task); with ``expect_role`` (superuser URL, role), that web and worker connected as it."""
    port = free_port()
    step(f"web: {processes['web']} (PORT={port})")
    with process(processes["web"], build, {**env, "DYNO": "web.1", "PORT": str(port)},
                 work / "web.log") as web:
        print("   ", check_web(web, port, host, static, work / "web.log"), flush=True)
        step(f"worker: {processes['worker']}")
        with process(processes["worker"], build, {**env, "DYNO": "worker.1"},
                     work / "worker.log") as worker:
            print("   ", check_worker(worker, build, {**env, "DYNO": "run.1"},
                                      work / "worker.log", probe_task), flush=True)
            print("   ", check_health_with_worker(port, host, work / "web.log"), flush=True)
            if expect_role is not None:
                superuser_url, role = expect_role
                connected = roles_connected(superuser_url)
                if role not in connected or WALL_ROLE in connected:
                    raise BuildError(f"web and worker should connect as {role} only; connected: "
                                     f"{sorted(connected)}")
                print(f"    connected roles: {', '.join(sorted(connected))}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the build; exit 0 when the app built and served, 1 with the reason otherwise."""
    parser = argparse.ArgumentParser(prog="python -m tests.support.slug_build", description=__doc__)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="an operator's config var (app.json's required ones)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository to build")
    parser.add_argument("--probe-task", default=PROBE_TASK)
    parser.add_argument("--keep", action="store_true", help="keep the build directory")
    args = parser.parse_args(argv)
    operator = dict(item.split("=", 1) for item in args.set if "=" in item)
    work = Path(tempfile.mkdtemp(prefix="slug-build-"))
    started = time.monotonic()
    try:
        build_and_run(args.root.resolve(), work, operator, args.probe_task)
    except (BuildError, pytest.fail.Exception) as exc:
        print(f"BUILD FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        if args.keep:
            print(f"    build directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    step(f"OK in {time.monotonic() - started:.0f} s: built as heroku/python builds it, "
         "released, web and worker answered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
