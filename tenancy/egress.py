"""Outbound HTTP that a tenant can steer (an identity provider's discovery, keys, token and
userinfo endpoints, SAML metadata): the one way such a fetch is made.

Built on ``requests-hardened``, which resolves the host once, refuses the address when it is
private, loopback, link-local (the cloud metadata address 169.254.169.254 included), multicast,
reserved or otherwise not globally routed, and connects to the address it checked (the TLS name
is still the host's), so a DNS answer that changes between check and connect cannot redirect
the request (no DNS rebinding). This module adds what it leaves out:

- https only, unless ``DEBUG`` (the address rules still hold: a developer's IdP on loopback
  needs its origin in ``EGRESS_ALLOWED_TEST_ORIGINS``);
- proxies from the environment are ignored (the proxy, not this check, would resolve the host);
- short timeouts (:data:`CONNECT_TIMEOUT`, :data:`READ_TIMEOUT`), and the whole response must
  arrive within :data:`TOTAL_DEADLINE` (checked between reads, so a trickling server is cut
  off after at most the deadline plus one read wait);
- a size limit on every response (:data:`MAX_BYTES`, or the caller's);
- redirects followed by hand, at most :data:`MAX_REDIRECTS`, each hop checked like the first;
- ``EGRESS_ALLOWED_TEST_ORIGINS``: exact origins with a literal IP address (for example
  ``http://127.0.0.1:8123``, the test suite's own identity provider on loopback) exempt from the
  scheme and address rules; honoured only while ``TESTING`` or ``DEBUG`` is on, never set by
  the production settings and not read from the environment.

Refusals raise :class:`EgressRefused` with a message an account admin can act on.
"""

from __future__ import annotations

import ipaddress
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from requests.adapters import HTTPAdapter
from requests_hardened import Config, HTTPSession
from requests_hardened.ip_filter import InvalidIPAddress, get_ip_address
from requests_hardened.ip_filter_adapter import IPFilterAdapter

CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 2.0
TOTAL_DEADLINE = 3.0
MAX_BYTES = 512 * 1024
MAX_REDIRECTS = 3
USER_AGENT = "Smarter-SSO/1"


class EgressRefused(requests.RequestException):
    """A fetch the egress rules refused or that failed; the message says why. A
    ``RequestException``, so allauth's views show their sign-in error page for it."""


def allowed_test_origins() -> frozenset[str]:
    """The exempt origins (empty unless ``TESTING`` or ``DEBUG``); each must name an IP literal,
    so no DNS answer can move it."""
    if not (getattr(settings, "TESTING", False) or settings.DEBUG):
        return frozenset()
    origins = frozenset(getattr(settings, "EGRESS_ALLOWED_TEST_ORIGINS", ()) or ())
    for origin in origins:
        host = urlsplit(origin).hostname or ""
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ImproperlyConfigured(f"EGRESS_ALLOWED_TEST_ORIGINS: {origin!r} must name an IP address") \
                from None
    return origins


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}:{port}"


def _normal_origin(origin: str) -> str:
    return origin_of(origin.rstrip("/"))


def is_allowed_test_origin(url: str) -> bool:
    return origin_of(url) in {_normal_origin(o) for o in allowed_test_origins()}


def check_url(url: str) -> None:
    """Refuse a URL by its form: scheme (https; http only with ``DEBUG`` or an allowed test
    origin), a host, no credentials in it."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise EgressRefused(f"{url[:200]} is not a valid URL.") from None
    if not parts.hostname:
        raise EgressRefused(f"{url[:200]} has no host name.")
    if parts.username or parts.password:
        raise EgressRefused("A URL with a user name or password in it is not accepted.")
    if parts.scheme == "https" or is_allowed_test_origin(url):
        return
    if parts.scheme == "http" and settings.DEBUG:
        return
    raise EgressRefused(f"{url[:200]} must use https.")


def check_destination(url: str) -> None:
    """:func:`check_url`, and the host's address now (for a URL stored to be fetched later, such
    as a token endpoint: the fetch checks again, this tells the admin early)."""
    check_url(url)
    if is_allowed_test_origin(url):
        return
    parts = urlsplit(url)
    try:
        get_ip_address(parts.hostname or "", parts.port or 443, allow_loopback=False)
    except InvalidIPAddress as exc:
        raise EgressRefused(f"{parts.hostname} resolves to an address that is not on the public internet "
                            f"({exc}).") from None
    except OSError:
        raise EgressRefused(f"{parts.hostname} could not be resolved.") from None


class _Adapter(IPFilterAdapter):
    """requests-hardened's address filter, except for an allowed test origin."""

    def build_connection_pool_key_attributes(self, request: requests.PreparedRequest, verify: Any,
                                             cert: Any = None) -> Any:
        if request.url and is_allowed_test_origin(request.url):
            return HTTPAdapter.build_connection_pool_key_attributes(self, request, verify, cert)
        return super().build_connection_pool_key_attributes(request, verify, cert)


def _bounded_body(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
    """Response hook: read the body now, within the size limit and the deadline (requests runs
    hooks before it reads the body itself)."""
    limit = int(getattr(response.request, "egress_max_bytes", MAX_BYTES))
    started = float(getattr(response.request, "egress_started", time.monotonic()))
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise EgressRefused(f"The answer from {origin_of(response.url)} is larger than {limit} bytes.")
    body = bytearray()
    raw = response.raw
    while True:
        if time.monotonic() - started > TOTAL_DEADLINE:
            response.close()
            raise EgressRefused(f"{origin_of(response.url)} did not answer within {TOTAL_DEADLINE:g} s.")
        chunk = raw.read1(64 * 1024, decode_content=True) if hasattr(raw, "read1") else raw.read(64 * 1024)
        if not chunk:
            break
        body += chunk
        if len(body) > limit:
            response.close()
            raise EgressRefused(f"The answer from {origin_of(response.url)} is larger than {limit} bytes.")
    response._content = bytes(body)
    response._content_consumed = True
    return response


class EgressSession(HTTPSession):
    """A requests session under the egress rules (also what allauth's social adapter hands its
    OAuth2 client for the token and userinfo endpoints)."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        super().__init__(Config(ip_filter_enable=True, ip_filter_allow_loopback_ips=False,
                                never_redirect=True, default_timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                                user_agent_override=USER_AGENT))
        self.trust_env = False  # no proxy from the environment: the checked address is the one used
        self.mount("http://", _Adapter(is_https_proto=False))
        self.mount("https://", _Adapter(is_https_proto=True))
        self.max_bytes = max_bytes
        self.hooks["response"].append(_bounded_body)

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        check_url(request.url or "")
        request.egress_max_bytes = self.max_bytes  # type: ignore[attr-defined]
        request.egress_started = time.monotonic()  # type: ignore[attr-defined]
        kwargs["timeout"] = (CONNECT_TIMEOUT, READ_TIMEOUT)
        kwargs["allow_redirects"] = False
        try:
            return super().send(request, **kwargs)
        except EgressRefused:
            raise
        except InvalidIPAddress as exc:
            host = urlsplit(request.url or "").hostname
            raise EgressRefused(f"{host} resolves to an address that is not on the public internet "
                                f"({exc}).") from None
        except requests.Timeout:
            raise EgressRefused(f"{origin_of(request.url or '')} did not answer in time.") from None
        except requests.RequestException as exc:
            raise EgressRefused(f"{origin_of(request.url or '')} could not be reached "
                                f"({type(exc).__name__}).") from None


def get(url: str, *, max_bytes: int = MAX_BYTES, headers: dict[str, str] | None = None) -> requests.Response:
    """GET ``url`` under the egress rules, following at most :data:`MAX_REDIRECTS` redirects
    (each checked like the first); refuses a non-2xx answer."""
    with EgressSession(max_bytes) as session:
        for _hop in range(MAX_REDIRECTS + 1):
            response = session.get(url, headers=headers)
            if response.is_redirect and response.headers.get("Location"):
                url = urljoin(url, response.headers["Location"])
                continue
            if not 200 <= response.status_code < 300:
                raise EgressRefused(f"{url[:200]} answered HTTP {response.status_code}.")
            return response
    raise EgressRefused(f"{url[:200]}: more than {MAX_REDIRECTS} redirects.")


def get_json(url: str, *, max_bytes: int = MAX_BYTES) -> dict[str, Any]:
    """A JSON object from ``url`` (:func:`get`), refused if the body is not one."""
    response = get(url, max_bytes=max_bytes, headers={"Accept": "application/json"})
    try:
        data = response.json()
    except ValueError:
        raise EgressRefused(f"{url[:200]} did not answer with JSON.") from None
    if not isinstance(data, dict):
        raise EgressRefused(f"{url[:200]} did not answer with a JSON object.")
    return data
