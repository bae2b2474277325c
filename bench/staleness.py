"""Cross-process staleness: process A (this script) deactivates an account or removes a
member; how long until another process (a gunicorn worker) refuses it?

Usage (bench/driver.py runs it): python bench/staleness.py SETTINGS PORT TRIALS, with the
product environment of bench/common.py. Gunicorn (2 sync workers, the product's URLs and
settings module SETTINGS) must already serve on PORT. Per trial: A saves the change (the
signal invalidates and publishes; its save returns after the commit), then requests are
sent back to back to the workers until one refuses; every answer that still accepted is
counted as stale. Then the
change is undone and the workers are seen to accept again before the next trial. The
staleness window of a trial is the time from the save's return until the first request
that is refused was sent (every request sent earlier got the old answer); the refusing
answer's arrival (the request's own latency on top) is reported beside it.
Prints one JSON object.
"""

from __future__ import annotations

import http.client
import json
import sys
import time

import django

django.setup()

from tenancy.wall import enter_platform  # noqa: E402

# A script, not a request: the database wall's explicit platform mode (requests it serves
# in-process set their own tenant's).
enter_platform("bench script")

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

from accounts.models import Account, UserProfile  # noqa: E402
from accounts.provisioning import add_member  # noqa: E402
from bench.common import pct  # noqa: E402
from tenancy.hosts import tenant_host  # noqa: E402

MAX_WAIT = 2.0  # seconds per trial before it counts as never refused


def status(port: int, host: str, path: str, cookie: str = "") -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        headers = {"Host": host, "X-Forwarded-Proto": "https"}
        if cookie:
            headers["Cookie"] = cookie
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


def until(port: int, host: str, path: str, cookie: str, accepted: bool,
          since: float | None = None) -> tuple[float, float, int]:
    """Send requests back to back until the answer says ``accepted`` (200) or not.

    Returns, in seconds from ``since`` (default: now): when the first request with that
    answer was sent (the staleness window: every request sent before it got the old
    answer) and when its answer arrived; and how many answers were still the old one.
    """
    t0 = time.perf_counter() if since is None else since
    wrong = 0
    while True:
        sent = time.perf_counter()
        ok = status(port, host, path, cookie) == 200
        if ok == accepted:
            return sent - t0, time.perf_counter() - t0, wrong
        wrong += 1
        if time.perf_counter() - t0 > MAX_WAIT:
            return float("inf"), float("inf"), wrong


def main() -> None:
    port, trials = int(sys.argv[2]), int(sys.argv[3])
    account = Account.objects.create(company_name=f"Staleness {time.time_ns()}")
    host = tenant_host(account.account_number)
    profile, _ = add_member(account, f"stale-{account.account_number}",
                            email="stale@bench.test", password="bench-password-123", admin=True)
    client = Client()
    client.force_login(get_user_model().objects.get(pk=profile.user_id))
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    scenarios = {
        # anonymous tenant home: 404 once the account is inactive
        "account_deactivated": ("/", "", lambda on: _set(Account, account.pk, on)),
        # the admin's console: 200 as a member, a redirect to sign-in once removed
        "member_removed": ("/console/", cookie, lambda on: _set(UserProfile, profile.pk, on)),
    }
    out: dict = {}
    for name, (path, cookie_, change) in scenarios.items():
        for _ in range(5):  # warm both workers
            until(port, host, path, cookie_, True)
        window, answered, saves, stale, never = [], [], [], 0, 0
        for _ in range(trials):
            started = time.perf_counter()
            change(False)
            saved = time.perf_counter()
            sent, done, wrong = until(port, host, path, cookie_, False, since=saved)
            stale += wrong
            never += sent == float("inf")
            window.append(sent * 1000)
            answered.append(done * 1000)
            saves.append((saved - started) * 1000)
            change(True)
            until(port, host, path, cookie_, True)
            for _ in range(3):  # both workers serve it from level 1 again
                status(port, host, path, cookie_)
        window = [t for t in window if t != float("inf")]
        answered = [t for t in answered if t != float("inf")]
        out[name] = {"trials": trials, "p50_ms": pct(window, 50), "p99_ms": pct(window, 99),
                     "max_ms": max(window) if window else None, "stale_answers": stale,
                     "never_refused": never, "refused_answer_p50_ms": pct(answered, 50),
                     "refused_answer_p99_ms": pct(answered, 99), "save_p50_ms": pct(saves, 50)}
    print(json.dumps(out))


def _set(model: type, pk: int, active: bool) -> None:
    obj = model.objects.get(pk=pk)
    obj.is_active = active
    obj.save()


if __name__ == "__main__":
    main()
