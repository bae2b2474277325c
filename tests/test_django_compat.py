"""Pins the private parts of Django's request that ``tenancy.django_compat`` wraps: if a Django
upgrade changes them, these fail, not the tenant routing that depends on them."""

from __future__ import annotations

import pytest
from django.core.exceptions import DisallowedHost
from django.test import RequestFactory
from django.utils.functional import lazy

from tenancy.django_compat import raw_host, set_absolute_origin

factory = RequestFactory()


def test_raw_host_is_what_get_host_checks_before_allowed_hosts(settings):
    settings.ALLOWED_HOSTS = ["allowed.example"]
    request = factory.get("/", HTTP_HOST="Custom.Example.ORG:8443")
    assert raw_host(request) == "Custom.Example.ORG:8443"  # as sent: port kept, not lowered
    with pytest.raises(DisallowedHost):
        request.get_host()  # the public call refuses what the middleware must resolve first
    allowed = factory.get("/", HTTP_HOST="allowed.example:8000")
    assert raw_host(allowed) == allowed.get_host() == "allowed.example:8000"


def test_raw_host_follows_a_trusted_forwarded_host(settings):
    settings.USE_X_FORWARDED_HOST = True
    request = factory.get("/", HTTP_HOST="internal:8000", HTTP_X_FORWARDED_HOST="shop.example")
    assert raw_host(request) == "shop.example"
    settings.USE_X_FORWARDED_HOST = False
    assert raw_host(request) == "internal:8000"


def test_the_absolute_origin_starts_every_absolute_uri_and_is_worked_out_when_first_used(settings):
    settings.ALLOWED_HOSTS = ["*"]
    request = factory.get("/path", HTTP_HOST="bind.internal:8000")
    asked: list[str] = []

    def origin() -> str:
        asked.append("origin")
        return "https://acme.example:8443"

    set_absolute_origin(request, lazy(origin, str)())
    assert asked == []
    assert request.build_absolute_uri("/reset/key/") == "https://acme.example:8443/reset/key/"
    assert request.build_absolute_uri() == "https://acme.example:8443/path"
    assert asked  # used by build_absolute_uri, not before
