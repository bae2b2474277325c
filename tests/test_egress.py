"""The egress rules (``tenancy.egress``) for every fetch a tenant can steer: https only, no
loopback, private, link-local (cloud metadata) or multicast address after resolution, the
checked address is the one connected to, short timeouts, size limits, redirects checked hop by
hop, and the test suite's loopback allowance narrow (one exact origin, only under
TESTING/DEBUG, an IP literal)."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from django.core.exceptions import ImproperlyConfigured

from tenancy import egress
from tests.support.oidc_support import hang, json_answer, loopback_server, trickle


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    with loopback_server() as s:
        yield s


class Listener:
    """A TCP listener on loopback that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


@pytest.fixture
def listener():  # type: ignore[no-untyped-def]
    it = Listener()
    yield it
    it.sock.close()


@pytest.fixture
def allowed(settings, server):  # type: ignore[no-untyped-def]
    settings.EGRESS_ALLOWED_TEST_ORIGINS = [server.origin]
    return server


def test_the_production_settings_allow_no_origin_and_tests_start_with_none(settings):
    import smarter.settings as production

    assert getattr(production, "EGRESS_ALLOWED_TEST_ORIGINS", []) == []
    assert settings.EGRESS_ALLOWED_TEST_ORIGINS == []


@pytest.mark.parametrize("url", ["http://example.com/x", "ftp://example.com/x", "file:///etc/passwd",
                                 "gopher://example.com/", "https://user:pw@example.com/", "https:///nohost"])
def test_urls_refused_by_form(url):
    with pytest.raises(egress.EgressRefused):
        egress.check_url(url)


def test_http_is_accepted_only_in_debug(settings):
    settings.DEBUG = True
    egress.check_url("http://localhost:8000/o")
    settings.DEBUG = False
    with pytest.raises(egress.EgressRefused, match="https"):
        egress.check_url("http://localhost:8000/o")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "10.1.2.3", "172.16.0.9", "192.168.1.1",
                                  "169.254.169.254", "100.100.100.200", "0.0.0.0", "[::1]", "[fd00:ec2::254]",
                                  "224.0.0.1", "[::ffff:127.0.0.1]"])
def test_internal_addresses_are_refused_before_connecting(host, listener):
    """https to each refused address: nothing connects (the listener on 127.0.0.1 sees nothing)."""
    with pytest.raises(egress.EgressRefused, match="not on the public internet"):
        egress.get(f"https://{host}:{listener.port}/.well-known/openid-configuration")
    time.sleep(0.05)
    assert listener.accepted == 0


def test_the_address_checked_is_the_address_connected_to(monkeypatch, listener):
    """DNS rebinding: the first answer is a public address, every later one loopback; the request
    goes to the address that was checked (unreachable here), never to loopback."""
    answers = iter(["93.184.215.14"] + ["127.0.0.1"] * 10)
    real = socket.getaddrinfo

    def rebinding(host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host == "rebind.example":
            return real(next(answers), port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    started = time.monotonic()
    with pytest.raises(egress.EgressRefused):
        egress.get(f"https://rebind.example:{listener.port}/")
    assert time.monotonic() - started < 3.5
    assert listener.accepted == 0
    assert next(answers) == "127.0.0.1"  # resolved once: the loopback answers were never asked for


def test_an_allowed_test_origin_is_fetched_over_http(allowed):
    allowed.routes["/doc"] = json_answer({"ok": True})
    assert egress.get_json(f"{allowed.origin}/doc") == {"ok": True}
    assert allowed.hits == ["/doc"]


def test_the_allowance_is_exact_and_needs_testing_or_debug(settings, allowed):
    allowed.routes["/doc"] = json_answer({"ok": True})
    with pytest.raises(egress.EgressRefused):  # another port of the same address
        egress.get_json(f"http://127.0.0.1:{allowed.port + 1 if allowed.port < 65535 else 1}/doc")
    settings.TESTING, settings.DEBUG = False, False  # production: the list is ignored
    with pytest.raises(egress.EgressRefused):
        egress.get_json(f"{allowed.origin}/doc")
    assert allowed.hits == []
    settings.TESTING = True
    settings.EGRESS_ALLOWED_TEST_ORIGINS = ["http://localhost:8000"]
    with pytest.raises(ImproperlyConfigured):
        egress.check_url("http://localhost:8000/")


def test_a_host_that_never_answers_is_given_up_within_three_seconds(allowed):
    allowed.routes["/slow"] = hang(10)
    started = time.monotonic()
    with pytest.raises(egress.EgressRefused, match="in time"):
        egress.get(f"{allowed.origin}/slow")
    assert time.monotonic() - started <= 3.0


def test_a_trickling_answer_is_cut_off_at_the_deadline(allowed):
    allowed.routes["/drip"] = trickle(100, 0.3)
    started = time.monotonic()
    with pytest.raises(egress.EgressRefused, match="within"):
        egress.get(f"{allowed.origin}/drip")
    assert time.monotonic() - started < egress.TOTAL_DEADLINE + egress.READ_TIMEOUT


def test_answers_over_the_size_limit_are_refused(allowed):
    allowed.routes["/big"] = (200, {}, b"x" * (egress.MAX_BYTES + 1))
    with pytest.raises(egress.EgressRefused, match="larger"):
        egress.get(f"{allowed.origin}/big")
    allowed.routes["/small"] = (200, {}, b"x" * 100)
    with pytest.raises(egress.EgressRefused, match="larger"):
        egress.get(f"{allowed.origin}/small", max_bytes=10)


def test_redirects_are_checked_hop_by_hop(allowed):
    allowed.routes["/to-metadata"] = (302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b"")
    allowed.routes["/to-https-internal"] = (302, {"Location": "https://127.0.0.1:1/x"}, b"")
    allowed.routes["/hop"] = (302, {"Location": "/doc"}, b"")
    allowed.routes["/doc"] = json_answer({"ok": 1})
    allowed.routes["/loop"] = (302, {"Location": "/loop"}, b"")
    with pytest.raises(egress.EgressRefused, match="https"):
        egress.get(f"{allowed.origin}/to-metadata")
    with pytest.raises(egress.EgressRefused, match="not on the public internet"):
        egress.get(f"{allowed.origin}/to-https-internal")
    assert egress.get_json(f"{allowed.origin}/hop") == {"ok": 1}
    with pytest.raises(egress.EgressRefused, match="redirects"):
        egress.get(f"{allowed.origin}/loop")


def test_errors_and_non_json_are_refused(allowed):
    allowed.routes["/html"] = (200, {"Content-Type": "text/html"}, b"<html>")
    allowed.routes["/list"] = json_answer([1, 2])
    for path, message in [("/html", "JSON"), ("/list", "JSON object"), ("/missing", "404")]:
        with pytest.raises(egress.EgressRefused, match=message):
            egress.get_json(f"{allowed.origin}{path}")
