"""django-csp's middleware, with the policy of a plain response built once per process.

``csp.middleware.CSPMiddleware`` rebuilds the header from the settings on every response
(two ``build_policy`` calls and two dataclass conversions: about a fifth of a trivial
request). A response with no nonce used and no per-view override (``@csp_update`` and the
like) always gets the same two headers, so they are built once per process (and again after
a settings change) and written with ``middleware.headers`` (checked once, not per response);
every other response goes through the library unchanged. The layer is
a plain ``__call__`` (not ``MiddlewareMixin``'s; ``middleware.edge`` calls the two halves
itself), ``request.csp_nonce`` is built without ``LazyObject``'s Python-level attribute hooks,
and the after-response guard on it is one object per process (it only ever raises).
"""

from __future__ import annotations

import http.client as http_client
from collections.abc import Callable
from functools import partial
from typing import Any

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty

from .headers import has, put

_DEBUG_EXEMPT = (http_client.INTERNAL_SERVER_ERROR, http_client.NOT_FOUND)
_KEY, _KEY_REPORT_ONLY = HEADER.lower(), HEADER_REPORT_ONLY.lower()
#: (header, report-only header, excluded prefixes, report-only excluded prefixes)
_plain: list[tuple[str, str, tuple[str, ...], tuple[str, ...]]] = []


def _settings_changed(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _plain.clear()


setting_changed.connect(_settings_changed)


def _plain_policies() -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    if not _plain:
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None) or {}
        _plain.append((
            build_policy(), build_policy(report_only=True),
            tuple(policy.get("EXCLUDE_URL_PREFIXES", None) or ()),
            tuple(report_only.get("EXCLUDE_URL_PREFIXES", None) or ()),
        ))
    return _plain[0]


class LazyNonce(CheckableLazyObject):
    """django-csp's ``request.csp_nonce`` (a ``CheckableLazyObject`` of the same function),
    with the state ``SimpleLazyObject.__init__`` sets written directly: through
    ``LazyObject``'s ``__setattr__`` and ``__getattribute__`` it cost as much as the rest of
    the request half, on every request, for a nonce most pages never use."""

    def __init__(self, func: Callable[[], Any]) -> None:
        object.__setattr__(self, "_setupfunc", func)
        object.__setattr__(self, "_wrapped", empty)


#: What django-csp's decorators (``@csp_update``, ``@csp_exempt``…) set on a response, always
#: as instance attributes: one set test of the response's ``__dict__`` instead of eight
#: ``getattr`` misses (each an ``AttributeError`` raised and caught).
_PER_RESPONSE = frozenset({"_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
                           "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro"})


#: ``request.csp_nonce`` once the header is written: asking for it raises (as the library's)
_AFTER_RESPONSE: SimpleLazyObject = CheckableLazyObject(CSPMiddleware._csp_nonce_post_response)


class CachedPolicyCSPMiddleware(CSPMiddleware):
    async_capable = False  # a sync __call__: under ASGI Django adapts around it

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        self.process_request(request)
        response = self.get_response(request)
        assert isinstance(response, HttpResponseBase)  # sync only (async_capable is off)
        return self.process_response(request, response)

    def process_request(self, request: HttpRequest) -> None:
        request.csp_nonce = LazyNonce(partial(self._make_nonce, request))  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        # A template tag cannot reach the response: it widens its page's policy on the request
        # (sso's sign-in buttons add their identity providers to form-action).
        on_request = request.__dict__
        update = on_request.get("_csp_update")
        if update is not None and getattr(response, "_csp_update", None) is None:
            response._csp_update = update  # type: ignore[attr-defined]
        if on_request.get("_csp_nonce") is not None or not _PER_RESPONSE.isdisjoint(response.__dict__):
            return super().process_response(request, response)  # nonce, override or exemption
        if response.status_code in _DEBUG_EXEMPT and settings.DEBUG:
            return response
        csp, csp_ro, excluded, excluded_ro = _plain_policies()
        path = request.path_info
        if csp and not has(response, _KEY) and not path.startswith(excluded):
            put(response, HEADER, csp)
        if csp_ro and not has(response, _KEY_REPORT_ONLY) and not path.startswith(excluded_ro):
            put(response, HEADER_REPORT_ONLY, csp_ro)
        # as the library does: a nonce asked for after the header was written is an error
        request.csp_nonce = _AFTER_RESPONSE  # type: ignore[attr-defined]
        return response
