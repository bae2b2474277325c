"""The product as operators run it, for tests that need real processes: gunicorn (DEBUG off,
the Procfile's web line on loopback) on a given PostgreSQL and Redis, seeded tenants, and an
HTTP client that talks to it with tenant Host headers as the platform router does.

Shared by the outage tests and the soak (``tests/support/soak.py``). Every wait is bounded; the
server is stopped when its block ends.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.support.services import free_port, owner_role_url, stop_process

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROOT_DOMAIN = "example.com"
PASSWORD = "stack-test-password-4711"

SEED = r"""
import io, json, sys
import django
django.setup()
from django.core.management import call_command
from tenancy.wall import enter_platform
enter_platform("the test stack's seeding script")  # not a request: explicit platform mode

def run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()

run("collectstatic", "--noinput", "-v0")
run("migrate", "--noinput", "-v0")
run("initialize_platform", "--no-input")
from accounts.models import UserProfile
from workspaces.models import Workspace
tenants = []
for i, company in enumerate(json.loads(sys.argv[1])):
    number = run("create_account", company)
    user = f"admin{i}"
    run("create_user", user, "--account", number, "--email", f"{user}@stack.test", "--admin")
    key = run("create_api_key", "--account", number, "--username", user, "--name", "stack")
    owner = UserProfile.objects.get(user__username=user, account__account_number=number)
    Workspace.objects.create(user_profile=owner, name="launchpad", is_public=True)
    tenants.append({"company": company, "number": number, "username": user, "key": key})
print(json.dumps(tenants))
"""


@dataclass
class Tenant:
    """A seeded account: its admin (password ``PASSWORD``), API key and public workspace
    ``launchpad``."""

    company: str
    number: str
    username: str
    key: str

    @property
    def host(self) -> str:
        return f"{self.number}.alpha.api.{ROOT_DOMAIN}"

    @property
    def workspace_host(self) -> str:
        return f"launchpad.{self.host}"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Browser:
    """HTTP/1.1 straight to gunicorn with one Host header, as the platform router sends it
    (``X-Forwarded-Proto: https``); keeps the cookies it is given."""

    port: int
    host: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, body: bytes | None = None,
                **headers: str) -> Reply:
        sent = {"Host": self.host, "X-Forwarded-Proto": "https", **headers}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        started = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
            for raw in response.msg.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(raw).items():
                    self.cookies[name] = morsel.value
            return Reply(response.status, dict(response.getheaders()), data,
                         time.monotonic() - started)
        finally:
            conn.close()

    def get(self, path: str, **headers: str) -> Reply:
        return self.request("GET", path, **headers)

    def post_json(self, path: str, data: Any, **headers: str) -> Reply:
        return self.request("POST", path, body=json.dumps(data).encode(),
                            **{"Content-Type": "application/json", **headers})

    def login(self, username: str, password: str) -> Reply:
        """Open the login page and post the form; the POST's reply."""
        form = self.get("/login/")
        assert form.status == 200, form.status
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        assert match, "no CSRF token on the login page"
        origin = f"https://{self.host}"
        return self.request(
            "POST", "/login/",
            body=urlencode({"login": username, "password": password,
                            "csrfmiddlewaretoken": match.group(1), "next": "/console/"}).encode(),
            **{"Content-Type": "application/x-www-form-urlencoded", "Origin": origin,
               "Referer": f"{origin}/login/"},
        )

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        reply = self.login(username, password)
        assert reply.status == 302 and "sessionid" in self.cookies, (reply.status, reply.text[:500])


def production_env(tmp: Path, database_url: str, redis_url: str) -> dict[str, str]:
    """The environment an operator sets (DEBUG off), on the given services: the database as
    a role row-level security binds (production refuses a superuser), mail printed to the log
    by the operator's explicit choice (``EMAIL_TO_LOG``)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DATABASE_POOL", "REDIS_URL"}}
    env.update(
        DEBUG="false", SECRET_KEY="stack-test-" + "k" * 50, ROOT_DOMAIN=ROOT_DOMAIN,
        STATIC_ROOT=str(tmp / "static"), DJANGO_SETTINGS_MODULE="smarter.settings",
        DATABASE_URL=owner_role_url(database_url), REDIS_URL=redis_url, EMAIL_TO_LOG="true",
        NEW_USER_PASSWORD=PASSWORD, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1",
        PLATFORM_ADMIN_PASSWORD="platform-" + PASSWORD,
    )
    return env


def seed(env: dict[str, str], companies: list[str]) -> list[Tenant]:
    """Migrate, run the release phase's bootstrap and create one tenant per company."""
    done = subprocess.run([sys.executable, "-c", SEED, json.dumps(companies)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return [Tenant(**t) for t in json.loads(done.stdout.strip().splitlines()[-1])]


@contextmanager
def gunicorn(env: dict[str, str], log: Path, workers: int = 2) -> Iterator[int]:
    """The Procfile's web line bound to a free loopback port; yields the port once
    ``/healthz`` answers 200. Output (access log included) goes to ``log``."""
    port = free_port()
    with log.open("wb") as out:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "smarter.wsgi", "--bind", f"127.0.0.1:{port}",
             "--workers", str(workers), "-c", "gunicorn.conf.py", "--forwarded-allow-ips=*",
             "--graceful-timeout", "5"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, f"gunicorn exited: {log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, "gunicorn did not answer within 30 s"
            try:
                if Browser(port, ROOT_DOMAIN).get("/healthz").status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        yield port
    finally:
        stop_process(server, timeout=15)
