"""Helpers of the egress and OIDC tests: an HTTP server on loopback whose answers the test sets
(and which counts what it received), and on it a small OpenID Connect provider: discovery,
JWKS (keys made in the test, rotatable), a token endpoint answering an ID token the test
shapes (claims, key, key id), userinfo."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

Answer = tuple[int, dict[str, str], bytes]


class LoopbackServer:
    """``routes[path]`` answers GET and POST on that path: an ``Answer`` or a callable taking
    the handler and returning one (or None: it wrote the answer itself). ``hits`` lists paths."""

    def __init__(self) -> None:
        self.routes: dict[str, Answer | Callable[[BaseHTTPRequestHandler], Answer | None]] = {}
        self.hits: list[str] = []
        self.bodies: list[bytes] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                path = self.path.split("?", 1)[0]
                server.hits.append(path)
                length = int(self.headers.get("Content-Length") or 0)
                server.bodies.append(self.rfile.read(length) if length else b"")
                route = server.routes.get(path, (404, {}, b"not found"))
                answer = route(self) if callable(route) else route
                if answer is None:
                    return
                status, headers, body = answer
                self.send_response(status)
                for key, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = int(self.httpd.server_address[1])
        self.origin = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> LoopbackServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextmanager
def loopback_server() -> Iterator[LoopbackServer]:
    server = LoopbackServer().start()
    try:
        yield server
    finally:
        server.stop()


def json_answer(data: Any, status: int = 200) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(data).encode()


def hang(seconds: float) -> Callable[[BaseHTTPRequestHandler], None]:
    """A route that accepts and then says nothing for ``seconds``."""
    def route(handler: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)
    return route


def trickle(total: int, every: float) -> Callable[[BaseHTTPRequestHandler], None]:
    """A route that sends a 200 and then one byte per ``every`` seconds."""
    def route(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(total))
        handler.end_headers()
        try:
            for _ in range(total):
                handler.wfile.write(b"x")
                handler.wfile.flush()
                time.sleep(every)
        except OSError:
            pass
    return route


@dataclass
class SigningKey:
    kid: str
    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))

    def jwk(self) -> dict[str, Any]:
        data = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        return {**data, "kid": self.kid, "use": "sig", "alg": "RS256"}


class FakeIdp:
    """An OIDC provider on a :class:`LoopbackServer` under ``/o``. ``claims`` are added to the
    next ID token (``nonce`` defaults to the one the authorization request sent); ``sign_with``
    picks the key (default: the first published)."""

    def __init__(self, server: LoopbackServer, client_id: str = "tenant-client") -> None:
        self.server, self.client_id = server, client_id
        self.issuer = f"{server.origin}/o"
        self.keys = [SigningKey("key-1")]
        self.sign_with: SigningKey | None = None
        self.claims: dict[str, Any] = {}
        self.nonce = ""
        self.email, self.sub, self.groups = "carol@alpha.test", "subject-carol", ["staff"]
        self.discovery: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize/",
            "token_endpoint": f"{self.issuer}/token/",
            "userinfo_endpoint": f"{self.issuer}/userinfo/",
            "jwks_uri": f"{self.issuer}/jwks/",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
        }
        server.routes["/o/.well-known/openid-configuration"] = lambda h: json_answer(self.discovery)
        server.routes["/o/jwks/"] = lambda h: json_answer({"keys": [k.jwk() for k in self.keys]})
        server.routes["/o/token/"] = self._token
        server.routes["/o/userinfo/"] = lambda h: json_answer(self.userinfo())

    def userinfo(self) -> dict[str, Any]:
        return {"sub": self.sub, "email": self.email, "email_verified": True, "groups": self.groups,
                "given_name": "Carol"}

    def id_token(self) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": self.client_id, "sub": self.sub, "iat": now, "exp": now + 300,
                  "nonce": self.nonce, "email": self.email, "email_verified": True, "groups": self.groups,
                  **self.claims}
        key = self.sign_with or self.keys[0]
        return jwt.encode({k: v for k, v in claims.items() if v is not None}, key.key, algorithm="RS256",
                          headers={"kid": key.kid})

    def _token(self, handler: BaseHTTPRequestHandler) -> Answer:
        return json_answer({"access_token": "at-123", "token_type": "Bearer", "expires_in": 300,
                            "id_token": self.id_token()})

    def token_requests(self) -> list[dict[str, list[str]]]:
        pairs = zip(self.server.hits, self.server.bodies, strict=True)
        return [parse_qs(body.decode()) for path, body in pairs if path == "/o/token/"]


@pytest.fixture
def fake_idp(settings: Any) -> Iterator[FakeIdp]:
    """A :class:`FakeIdp` on loopback, its origin the one the egress allowance admits."""
    with loopback_server() as server:
        settings.EGRESS_ALLOWED_TEST_ORIGINS = [server.origin]
        yield FakeIdp(server)
