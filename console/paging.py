"""The console's lists, paged and searched on the server: a capped count, one page, and a
search of every word, so that what a list page costs does not grow with the account's size.
Members, contacts and workspaces all list through :func:`paged_list`."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Func, QuerySet, TextField
from django.db.models.lookups import IRegex
from django.http import HttpRequest
from django.utils.functional import cached_property

PAGE_SIZE = 50
COUNT_CAP = 1000  # a list counts its rows up to this; past it, "more than"
SEARCH_COUNT_CAP = 200  # a search counts its matches up to this
SEARCH_TERMS = 5  # words of a search, at most (each must match)
SEARCH_LENGTH = 100


class CappedPaginator(Paginator):
    """Counts at most ``cap`` + 1 rows (``count`` says ``capped``): counting 100,000 rows,
    or the 12,000 that match a common name, costs a scan of them all, and nobody pages past
    20 pages of 50 (they search). A search's cap is lower than a list's: each match counted
    is a row read and matched, where the list's are index entries; a search matching more
    asks for another word."""

    capped = False

    def __init__(self, object_list: QuerySet, per_page: int, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.cap = cap

    @cached_property
    def count(self) -> int:
        rows: QuerySet[Any] = self.object_list  # type: ignore[assignment]
        found = rows.order_by().values("pk")[:self.cap + 1].count()
        self.capped = found > self.cap
        return min(found, self.cap)


class SearchText(Func):
    """Columns of a row, space-separated, as a search reads them: where a trigram index is
    built on the identical expression (the members' users, accounts migration 0015) it
    serves every word of a search in one index scan. A word (no spaces) cannot match across
    two of the columns."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()


def search_words(query: str) -> list[str]:
    """The words of a search that count (at most ``SEARCH_TERMS`` of ``SEARCH_LENGTH``)."""
    return query[:SEARCH_LENGTH].split()[:SEARCH_TERMS]


def search(rows: QuerySet[Any], query: str, text: SearchText) -> QuerySet[Any]:
    """``rows`` whose ``text`` contains every word of ``query``, case-insensitively.

    A case-insensitive regular expression of the escaped word rather than ``icontains``: on
    PostgreSQL ``~*`` can be served by a trigram index on ``text``, where ``UPPER(x) LIKE``
    cannot (not on a table behind the database wall, whose policies allow an index only for
    leakproof operators: there the search filters the account's rows, read in page order)."""
    for term in search_words(query):
        rows = rows.filter(IRegex(text, re.escape(term)))
    return rows


def paged_list(request: HttpRequest, rows: QuerySet[Any], text: SearchText, *,
               per_page: int | None = None, cap: int | None = None,
               search_cap: int | None = None) -> dict[str, Any]:
    """The template context of one page of ``rows`` (already in the list's order), searched
    by the request's ``q`` over ``text`` and paged by its ``page``: ``page``, ``capped``
    (the count stopped at its cap), ``q`` and ``query`` (``q`` for the pager's links).
    Two statements whatever the number of rows: the capped count and the page. The sizes
    default to this module's."""
    query = request.GET.get("q", "").strip()[:SEARCH_LENGTH]
    if query:
        rows = search(rows, query, text)
    if query:
        limit = SEARCH_COUNT_CAP if search_cap is None else search_cap
    else:
        limit = COUNT_CAP if cap is None else cap
    paginator = CappedPaginator(rows, PAGE_SIZE if per_page is None else per_page, cap=limit)
    page = paginator.get_page(request.GET.get("page"))
    return {"page": page, "capped": paginator.capped, "q": query,
            "query": urlencode({"q": query}) if query else ""}
