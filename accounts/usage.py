"""Per-account daily usage, counted in memory and written in batches.

The request edge (``middleware.usage``) calls :func:`record` once per request served to an
account: a dict update under a lock. At most every ``USAGE_FLUSH_INTERVAL`` seconds (and when
the process exits: ``gunicorn.conf.py``'s ``worker_exit``, ``atexit``), :func:`flush` writes
what was counted: per account one transaction inside that tenant's context (the database's
row-level security sees one tenant), an upsert that adds to the day's row, and the day's
active members inserted once. A process killed without warning loses at most one interval
of counts; a failed write puts the counts back for the next flush.
"""

from __future__ import annotations

import atexit
import datetime
import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import Count

from tenancy.context import tenant_context

from .models import DailyActiveMember, DailyUsage

logger = logging.getLogger(__name__)
_lock = threading.Lock()
#: (account id, day number since the epoch) -> [requests, api calls]
_counts: dict[tuple[int, int], list[int]] = {}
#: (account id, day number, member id)
_members: set[tuple[int, int, int]] = set()
_next_flush = 0.0
_MAX_PENDING = 100_000  # rows kept back after failed writes, at most


def record(account_id: int, api: bool, member_id: int | None) -> None:
    """Count one request (an API call if ``api``) for the account, and its member as active."""
    global _next_flush
    day = int(time.time() // 86400)
    now = time.monotonic()
    with _lock:
        counts = _counts.get((account_id, day))
        if counts is None:
            counts = _counts[(account_id, day)] = [0, 0]
        counts[0] += 1
        if api:
            counts[1] += 1
        if member_id is not None:
            _members.add((account_id, day, member_id))
        if _next_flush == 0.0:  # the process's first request: the interval starts now
            _next_flush, due = now + settings.USAGE_FLUSH_INTERVAL, False
        else:
            due = now >= _next_flush
            if due:
                _next_flush = now + settings.USAGE_FLUSH_INTERVAL
    if due:
        flush()


def _take() -> tuple[dict[tuple[int, int], list[int]], set[tuple[int, int, int]]]:
    global _counts, _members
    with _lock:
        counts, members = _counts, _members
        _counts, _members = {}, set()
    return counts, members


def _give_back(counts: dict[tuple[int, int], list[int]], members: set[tuple[int, int, int]]) -> None:
    with _lock:
        for key, (requests, api_calls) in counts.items():
            if len(_counts) >= _MAX_PENDING:
                break
            mine = _counts.setdefault(key, [0, 0])
            mine[0] += requests
            mine[1] += api_calls
        if len(_members) < _MAX_PENDING:
            _members.update(members)


def _date(day: int) -> datetime.date:
    return datetime.date(1970, 1, 1) + datetime.timedelta(days=day)


def flush() -> int:
    """Write the counts gathered so far; the number of accounts written."""
    counts, members = _take()
    accounts = {account_id for account_id, _ in counts} | {a for a, _, _ in members}
    table = connection.ops.quote_name(DailyUsage._meta.db_table)
    written = 0
    for account_id in sorted(accounts):
        mine = {day: c for (a, day), c in counts.items() if a == account_id}
        active = [(day, m) for (a, day, m) in members if a == account_id]
        try:
            with tenant_context(account_id), transaction.atomic():
                if mine:
                    with connection.cursor() as cursor:
                        cursor.executemany(
                            f"INSERT INTO {table} (account_id, day, requests, api_calls) "  # noqa: S608
                            "VALUES (%s, %s, %s, %s) ON CONFLICT (account_id, day) DO UPDATE SET "
                            f"requests = {table}.requests + excluded.requests, "
                            f"api_calls = {table}.api_calls + excluded.api_calls",
                            [(account_id, _date(day), c[0], c[1]) for day, c in mine.items()],
                        )
                if active:
                    DailyActiveMember.objects.bulk_create(
                        [DailyActiveMember(account_id=account_id, day=_date(day), member_id=m)
                         for day, m in active],
                        ignore_conflicts=True,
                    )
            written += 1
        except DatabaseError as exc:
            logger.warning("usage counts of account %s not written (%s); kept for the next flush",
                           account_id, exc.__class__.__name__)
            _give_back({(account_id, d): c for d, c in mine.items()},
                       {(account_id, d, m) for d, m in active})
    return written


@dataclass(frozen=True)
class Day:
    day: datetime.date
    requests: int
    api_calls: int
    active_members: int


def daily(account_id: int, days: int = 30) -> list[Day]:
    """The account's usage for each of the last ``days`` UTC days that had any, newest first
    (what has been written: up to ``USAGE_FLUSH_INTERVAL`` behind)."""
    since = datetime.datetime.now(datetime.UTC).date() - datetime.timedelta(days=days - 1)
    rows = DailyUsage.objects.filter(account_id=account_id, day__gte=since)
    active = dict(
        DailyActiveMember.objects.filter(account_id=account_id, day__gte=since)
        .values_list("day").annotate(n=Count("id")).values_list("day", "n")
    )
    by_day = {row.day: row for row in rows}
    return [
        Day(day, by_day[day].requests if day in by_day else 0,
            by_day[day].api_calls if day in by_day else 0, active.get(day, 0))
        for day in sorted(set(by_day) | set(active), reverse=True)
    ]


def discard() -> None:
    """Forget what was counted and not written (tests)."""
    _take()


def _flush_at_exit() -> None:
    try:
        flush()
    except Exception:  # noqa: BLE001 - the process is ending; nothing else to do
        logger.warning("usage counts lost at exit")


if not settings.TESTING:  # test databases are rolled back: nothing to keep
    atexit.register(_flush_at_exit)
