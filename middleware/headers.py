"""Headers the request edge writes on every response, without re-checking them each time.

``response[name] = value`` checks that the name is ASCII and the value Latin-1 without a line
break (two Python calls per header), and ``name in response`` raises and catches a
``KeyError`` when the header is absent: together a sizeable part of the edge's own cost on a
trivial request. The edge's names are constants and its values few (the policies, per
process) or of a checked shape (request ids), so :func:`put` checks a (name, value) pair once
with Django's own ``ResponseHeaders`` and then stores it as its ``__setitem__`` does, in the
response's header store (``ResponseHeaders._store``: lower-cased name -> (name, value);
``tests/test_edge.py`` pins that this gives the same response as the public API).
"""

from __future__ import annotations

from functools import lru_cache

from django.http.response import HttpResponseBase, ResponseHeaders


@lru_cache(maxsize=64)  # the policies' values: a handful per process, and settings-bound
def checked(name: str, value: str) -> tuple[str, tuple[str, str]]:
    """(store key, stored pair) of a header, after Django's checks (``BadHeaderError``)."""
    headers = ResponseHeaders({})
    headers[name] = value
    ((key, pair),) = headers._store.items()  # type: ignore[attr-defined]
    return key, pair


def put(response: HttpResponseBase, name: str, value: str) -> None:
    """``response[name] = value``, checked once per distinct pair."""
    key, pair = checked(name, value)
    response.headers._store[key] = pair  # type: ignore[attr-defined]


def put_token(response: HttpResponseBase, name: str, value: str) -> None:
    """``response[name] = value`` for an ASCII name and a value of ``[A-Za-z0-9._-]`` only
    (which Django's checks always pass): no check, no cache entry per value."""
    response.headers._store[name.lower()] = (name, value)  # type: ignore[attr-defined]


def has(response: HttpResponseBase, key: str) -> bool:
    """``name in response`` for ``key``, the name already lower-cased."""
    return key in response.headers._store  # type: ignore[attr-defined]
