"""A local stand-in for the Heroku Platform API's app-domain endpoints (thread, loopback).

It answers exactly what ``routerdomains.providers.HerokuProvider`` calls, as documented:

* ``POST /apps/{app}/domains`` ``{"hostname", "sni_endpoint"}`` -> 201 with the domain;
  422 ``invalid_params`` when the hostname is already on the app (or ``taken`` by another app);
* ``GET /apps/{app}/domains/{id or hostname}`` -> 200 with the domain, whose ``acm_status``
  advances one step per read along ``acm_steps`` (``None -> pending -> cert issued``), or 404;
* ``DELETE /apps/{app}/domains/{id or hostname}`` -> 200 with the removed domain, or 404;
* a wrong ``Authorization`` -> 401, another app -> 404; ``fail_next(status, n)`` makes the
  next ``n`` requests answer ``status`` (429 with ``Retry-After``, 500, 503..., ``TRUNCATED``, or
  ``NOT_JSON``: a 201 whose body is an HTML page, as a proxy in the way might answer).

Every request is recorded (method, path, whether the token was right) in ``requests``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

import pytest

TOKEN = "hrku-test-token-0123456789abcdef"
TRUNCATED = -1  # fail_next(TRUNCATED): a 200 whose body breaks off
NOT_JSON = -2  # fail_next(NOT_JSON): a 201 whose body is not JSON
APP = "smarter-test-app"


@dataclass
class FakeHeroku:
    token: str = TOKEN
    app: str = APP
    acm_steps: list[str | None] = field(default_factory=lambda: [None, "pending", "cert issued"])
    domains: dict[str, dict[str, Any]] = field(default_factory=dict)  # hostname -> domain
    taken: set[str] = field(default_factory=set)  # hostnames another app holds
    requests: list[tuple[str, str, bool]] = field(default_factory=list)
    posted: list[str] = field(default_factory=list)  # hostnames of every POST that reached the app
    failures: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def fail_next(self, status: int, times: int = 1, **headers: str) -> None:
        with self.lock:
            self.failures.extend([(status, headers)] * times)

    def hostnames(self) -> set[str]:
        with self.lock:
            return set(self.domains)

    def calls(self, method: str | None = None) -> list[str]:
        with self.lock:
            return [p for m, p, _ in self.requests if method in (None, m)]

    def _find(self, ref: str) -> dict[str, Any] | None:
        return self.domains.get(ref) or next((d for d in self.domains.values() if d["id"] == ref), None)

    def handle(self, method: str, path: str, auth: str, body: bytes) -> tuple[int, Any, dict[str, str]]:
        with self.lock:
            self.requests.append((method, path, auth == f"Bearer {self.token}"))
            if self.failures:
                status, headers = self.failures.pop(0)
                ident = "rate_limit" if status == 429 else "server_error"
                return status, {"id": ident, "message": f"simulated {status}"}, headers
            if auth != f"Bearer {self.token}":
                return 401, {"id": "unauthorized", "message": "Invalid credentials provided."}, {}
            parts = [unquote(p) for p in path.strip("/").split("/")]
            if len(parts) < 3 or parts[0] != "apps" or parts[2] != "domains":
                return 404, {"id": "not_found", "message": "Not found."}, {}
            if parts[1] != self.app:
                return 404, {"id": "not_found", "message": "Couldn't find that app."}, {}
            if method == "POST" and len(parts) == 3:
                hostname = str(json.loads(body or b"{}").get("hostname", "")).lower()
                self.posted.append(hostname)
                if hostname in self.domains:
                    return 422, {"id": "invalid_params", "message": "Domain already added to this app."}, {}
                if hostname in self.taken:
                    return 422, {"id": "invalid_params",
                                 "message": f"{hostname} is currently in use by another app."}, {}
                domain = {"id": str(uuid.uuid4()), "hostname": hostname, "kind": "custom",
                          "cname": f"{uuid.uuid4().hex[:12]}.herokudns.com", "status": "pending",
                          "acm_status": self.acm_steps[0], "acm_status_reason": None, "_step": 0}
                self.domains[hostname] = domain
                return 201, _public(domain), {}
            if len(parts) == 4:
                domain = self._find(parts[3])
                if domain is None:
                    return 404, {"id": "not_found", "message": "Couldn't find that domain."}, {}
                if method == "GET":
                    domain["_step"] = min(domain["_step"] + 1, len(self.acm_steps) - 1)
                    domain["acm_status"] = self.acm_steps[domain["_step"]]
                    if domain["acm_status"] in ("failing", "failed"):
                        domain["acm_status_reason"] = "CAA record prevents issuance"
                    return 200, _public(domain), {}
                if method == "DELETE":
                    del self.domains[domain["hostname"]]
                    return 200, _public(domain), {}
            return 405, {"id": "method_not_allowed", "message": method}, {}


def _public(domain: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in domain.items() if not k.startswith("_")}


def serve(api: FakeHeroku) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            status, payload, headers = api.handle(self.command, self.path,
                                                  self.headers.get("Authorization", ""), body)
            data = json.dumps(payload).encode()
            if status == TRUNCATED:  # a connection that breaks mid-answer
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                self.wfile.write(b'{"id"')
                self.close_connection = True
                return
            if status == NOT_JSON:
                page = b"<html><body>Created</body></html>"
                self.send_response(201)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                return
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name.replace("_", "-"), value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_DELETE = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server


@pytest.fixture
def heroku_api(settings) -> Iterator[FakeHeroku]:
    """The fake API on a free loopback port, and the settings of the ``heroku`` provider."""
    api = FakeHeroku()
    server = serve(api)
    settings.ROUTER_DOMAIN_PROVIDER = "heroku"
    settings.HEROKU_API_URL = api.url
    settings.HEROKU_API_TOKEN = api.token
    settings.HEROKU_APP_NAME = api.app
    settings.ROUTER_DOMAIN_TIMEOUT = 5
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
