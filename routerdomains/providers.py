"""Router providers: who adds a host to the platform's router and certifies it.

* ``none`` (the default): nothing is called; the console tells the operator to route the host.
* ``heroku``: the Heroku Platform API (``POST /apps/{app}/domains``, ``GET`` and ``DELETE
  /apps/{app}/domains/{id or hostname}``; the domain's ``acm_status`` tells the certificate).

Plain HTTP with the standard library (``urllib.request``) rather than a client library: three
JSON calls, a few per account over its lifetime, need no pooling or async, and the project has
no HTTP client dependency (``requests``/``httpx`` would add five packages for this). The opener
follows no redirect (urllib would resend the ``Authorization`` header to the new location), and
no error message or log line carries the token: only the status and Heroku's ``id``/``message``.
"""

from __future__ import annotations

import http.client
import json
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from django.conf import settings

logger = logging.getLogger(__name__)

ISSUED_ACM = frozenset({"cert issued", "ok"})
FAILED_ACM = frozenset({"failed", "failing"})


@dataclass(frozen=True)
class RouterDomainInfo:
    """What the provider knows of one host."""

    hostname: str
    provider_id: str = ""
    dns_target: str = ""
    acm_status: str = ""  # "" while no certificate was requested yet
    acm_reason: str = ""


class ProviderError(Exception):
    """A call failed (unreachable, refused, rate-limited, 5xx, rejected); safe to show and log."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: int | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RouterProvider(Protocol):
    """Adds, reads and removes hosts on the router. Every method is idempotent."""

    name: str
    managed: bool  # False: the operator routes hosts; nothing is called

    def add(self, hostname: str) -> RouterDomainInfo:
        """Add ``hostname`` (already present on this app: its current state)."""
        ...

    def get(self, ref: str) -> RouterDomainInfo | None:
        """The host's state by provider id or hostname; None if the router does not have it."""
        ...

    def remove(self, ref: str) -> bool:
        """Remove the host by provider id or hostname; False if it was not there."""
        ...


class NoProvider:
    """The operator routes every host; the app records what is needed and calls nothing."""

    name = "none"
    managed = False

    def add(self, hostname: str) -> RouterDomainInfo:
        raise ProviderError("no router provider is configured (ROUTER_DOMAIN_PROVIDER=none)")

    def get(self, ref: str) -> RouterDomainInfo | None:
        return None

    def remove(self, ref: str) -> bool:
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a 3xx is an error: the token is never sent anywhere else


class HerokuProvider:
    """The Heroku Platform API (version 3) for one app."""

    name = "heroku"
    managed = True
    ACCEPT = "application/vnd.heroku+json; version=3"

    def __init__(self, api_url: str, token: str, app: str, timeout: float) -> None:
        self._api_url = api_url.rstrip("/")
        self._token = token
        self._app = app
        self._timeout = timeout
        self._opener = urllib.request.build_opener(_NoRedirect())

    def __repr__(self) -> str:  # never the token
        return f"HerokuProvider(app={self._app!r}, api_url={self._api_url!r})"

    def _domains_path(self, ref: str = "") -> str:
        path = f"/apps/{quote(self._app, safe='')}/domains"
        return f"{path}/{quote(ref, safe='*')}" if ref else path

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        """(status, decoded JSON) of a 2xx/404/422 answer; ProviderError for anything else."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - the URL is the configured https API
            self._api_url + path, data=data, method=method,
            headers={"Accept": self.ACCEPT, "Authorization": f"Bearer {self._token}",
                     "Content-Type": "application/json", "User-Agent": "smarter-tenancy"},
        )
        try:
            with self._opener.open(request, timeout=self._timeout) as response:
                return response.status, _json(response.read())
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, _json(exc.read())
            retry_after = _int(exc.headers.get("Retry-After"))
            exc.close()
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", exc)
            raise ProviderError(f"Heroku API unreachable: {reason}") from None
        if status in (404, 422):
            return status, payload
        message = payload.get("message", "") if isinstance(payload, dict) else ""
        label = {401: "refused the API token", 403: "refused the API token for this app",
                 429: "rate limit reached"}.get(status, "error")
        raise ProviderError(f"Heroku API {label} (HTTP {status}){': ' + message if message else ''}",
                            status=status, retry_after=retry_after)

    def add(self, hostname: str) -> RouterDomainInfo:
        status, payload = self._call("POST", self._domains_path(),
                                     {"hostname": hostname, "sni_endpoint": None})
        if status == 422:  # already on this app (a retry after a lost answer), or refused
            found = self.get(hostname)
            if found is not None:
                return found
            message = payload.get("message", "") if isinstance(payload, dict) else ""
            raise ProviderError(f"Heroku refused the domain (HTTP 422): {message}", status=422)
        if status == 404:
            raise ProviderError(f"Heroku app {self._app!r} not found (HTTP 404)", status=404)
        return _info(hostname, _domain(status, payload))

    def get(self, ref: str) -> RouterDomainInfo | None:
        status, payload = self._call("GET", self._domains_path(ref))
        if status == 404:
            return None
        if status == 422:
            raise ProviderError(f"Heroku refused the lookup of {ref} (HTTP 422)", status=422)
        return _info(ref, _domain(status, payload))

    def remove(self, ref: str) -> bool:
        status, _ = self._call("DELETE", self._domains_path(ref))
        if status == 422:
            raise ProviderError(f"Heroku refused the removal of {ref} (HTTP 422)", status=422)
        return status != 404


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None


def _int(raw: str | None) -> int | None:
    try:
        return max(0, int(raw)) if raw is not None else None
    except ValueError:
        return None


def _domain(status: int, payload: Any) -> dict[str, Any]:
    """The domain a 2xx answer carries; ProviderError when it carries none (not JSON, or no
    ``id``): without it nothing shows the host was added, nor which one to follow."""
    if not isinstance(payload, dict):
        raise ProviderError(f"Heroku API answered HTTP {status} without the domain (not JSON)",
                            status=status)
    if not payload.get("id"):
        raise ProviderError(f"Heroku API answered HTTP {status} without the domain's id", status=status)
    return payload


def _info(ref: str, body: dict[str, Any]) -> RouterDomainInfo:
    return RouterDomainInfo(
        hostname=str(body.get("hostname") or ref),
        provider_id=str(body.get("id") or ""),
        dns_target=str(body.get("cname") or ""),
        acm_status=str(body.get("acm_status") or "").lower(),
        acm_reason=str(body.get("acm_status_reason") or ""),
    )


def get_provider() -> RouterProvider:
    """The provider the settings name (``ROUTER_DOMAIN_PROVIDER``)."""
    if settings.ROUTER_DOMAIN_PROVIDER == "heroku":
        return HerokuProvider(settings.HEROKU_API_URL, settings.HEROKU_API_TOKEN,
                              settings.HEROKU_APP_NAME, settings.ROUTER_DOMAIN_TIMEOUT)
    return NoProvider()
