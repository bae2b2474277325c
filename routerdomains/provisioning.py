"""Bring each recorded host to the router and follow its certificate; remove unwanted hosts.

* :func:`want_host` records that an account needs a host (account created: its workspace
  wildcard; custom domain verified: the domain) and enqueues ``sync_router_domain`` after commit.
* :func:`sync` makes one call for one host: add it if the provider does not have it yet,
  otherwise read its certificate status. Failures are recorded on the row (state ``failed``,
  the reason, ``attempts``) with the next attempt pushed back exponentially
  (``ROUTER_DOMAIN_RETRY_BASE`` doubled per attempt, at most ``ROUTER_DOMAIN_RETRY_MAX``, or the
  provider's ``Retry-After`` if longer). A pending certificate is polled on the same schedule.
* A router domain that is deleted (its custom domain removed, its account purged) leaves a
  :class:`RouterDomainRemoval`; :func:`remove` takes the host off the router unless some account
  records it again by then, so one account's removal never takes another's host.
* :func:`recheck_due` is the scheduled re-check (``check_domains``): every host and removal
  whose next attempt is due, each in its own tenant's context.

A provider failure never raises out of here into sign-up or domain verification.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from tenancy.context import tenant_context
from tenancy.hosts import tenant_host
from tenancy.tasks import platform_task, tenant_task

from .models import RouterDomain, RouterDomainRemoval
from .providers import FAILED_ACM, ISSUED_ACM, ProviderError, RouterDomainInfo, RouterProvider, get_provider

logger = logging.getLogger(__name__)


def workspace_wildcard(account_number: str) -> str:
    """The router domain that covers every workspace host of an account."""
    return f"*.{tenant_host(account_number)}"


def backoff(attempts: int, retry_after: int | None = None) -> timedelta:
    """Delay before attempt ``attempts + 1``: the base doubled per attempt, capped."""
    delay = settings.ROUTER_DOMAIN_RETRY_BASE * 2 ** max(0, min(attempts - 1, 30))
    delay = min(delay, settings.ROUTER_DOMAIN_RETRY_MAX)
    return timedelta(seconds=max(delay, retry_after or 0))


def want_host(account_id: int, hostname: str, kind: str) -> RouterDomain:
    """In ``account_id``'s own tenant context: a caller may run inside another tenant's (a
    clone creates its account inside the source's), where the database wall refuses the row."""
    with tenant_context(account_id):
        return _want_host(account_id, hostname, kind)


def _want_host(account_id: int, hostname: str, kind: str) -> RouterDomain:
    """Record that ``account_id`` needs ``hostname`` on the router; provision it after commit.

    Idempotent: a host already recorded is left as it is (a ``manual`` one is queued again
    once a provider is configured).
    """
    provider = get_provider()
    now = timezone.now()
    row, created = RouterDomain.objects.get_or_create(
        account_id=account_id, hostname=hostname.lower(),
        defaults={"kind": kind, "provider": provider.name,
                  "state": RouterDomain.QUEUED if provider.managed else RouterDomain.MANUAL,
                  "next_attempt_at": now if provider.managed else None},
    )
    if not created and row.state == RouterDomain.MANUAL and provider.managed:
        row.state, row.next_attempt_at, row.provider = RouterDomain.QUEUED, now, provider.name
        row.save(update_fields=["state", "next_attempt_at", "provider", "updated_at"])
    elif not created:
        return row
    if provider.managed:
        pk = row.pk
        transaction.on_commit(lambda: sync_router_domain.enqueue(account_id, pk), robust=True)
    return row


def _apply(row: RouterDomain, info: RouterDomainInfo, now: datetime) -> None:
    row.provider_id = info.provider_id or row.provider_id
    row.dns_target = info.dns_target or row.dns_target
    row.acm_status = info.acm_status
    if info.acm_status in ISSUED_ACM:
        row.state, row.attempts, row.next_attempt_at = RouterDomain.ISSUED, 0, None
        row.detail = "Routed; certificate issued."
        return
    previous = row.state
    row.state = (RouterDomain.FAILED if info.acm_status in FAILED_ACM
                 else RouterDomain.PENDING if info.acm_status else RouterDomain.ADDED)
    if row.state != previous:
        row.attempts = 0
    row.attempts += 1
    row.next_attempt_at = now + backoff(row.attempts)
    if row.state == RouterDomain.FAILED:
        reason = info.acm_reason or "the certificate could not be issued yet"
        row.detail = (f"Certificate {info.acm_status}: {reason}; checked again later."
                      + (f" Heroku's DNS target: {row.dns_target}" if row.dns_target else ""))
    else:
        row.detail = (f"Added; certificate {info.acm_status or 'not requested yet'}."
                      + (f" Heroku's DNS target: {row.dns_target}" if row.dns_target else ""))


def sync(row: RouterDomain, provider: RouterProvider | None = None) -> str:
    """One provisioning step for ``row`` (see the module's docstring), updating it in place;
    returns the failed call's message ("" when the call succeeded or none was made).

    The provider is asked outside any transaction; the result is written only if the row
    still exists (a host removed meanwhile is queued for removal again, so nothing is left).
    """
    provider = provider or get_provider()
    now = timezone.now()
    row.provider = provider.name
    error = ""
    if not provider.managed:
        row.state, row.next_attempt_at, row.attempts = RouterDomain.MANUAL, None, 0
        row.detail = "No router provider: the operator must route this host and its certificate."
    else:
        try:
            info = provider.get(row.provider_id) if row.provider_id else None
            if info is None:
                info = provider.add(row.hostname)
        except ProviderError as exc:
            error = str(exc)
            row.attempts += 1
            row.state = RouterDomain.FAILED
            row.detail = f"{exc} (attempt {row.attempts})"[:255]
            row.next_attempt_at = now + backoff(row.attempts, exc.retry_after)
            logger.warning("router domain %s of account %s: %s", row.hostname, row.account_id, exc)
        else:
            _apply(row, info, now)
    row.detail = row.detail[:255]
    fields = ["state", "provider", "provider_id", "dns_target", "acm_status", "detail", "attempts",
              "next_attempt_at"]
    written = RouterDomain.objects.filter(pk=row.pk).update(
        updated_at=now, **{f: getattr(row, f) for f in fields})
    if not written and row.provider_id:  # removed while we added it: take it off again
        with transaction.atomic():
            queue_removal(row.hostname, row.provider_id, "", provider)
    return error


def queue_removal(hostname: str, provider_id: str, account_number: str,
                  provider: RouterProvider | None = None) -> RouterDomainRemoval | None:
    """Owe the router the removal of ``hostname`` (nothing with the ``none`` provider)."""
    provider = provider or get_provider()
    if not provider.managed:
        return None
    removal, _ = RouterDomainRemoval.objects.update_or_create(
        hostname=hostname, defaults={"provider_id": provider_id, "account_number": account_number,
                                     "next_attempt_at": timezone.now(), "attempts": 0, "detail": ""})
    pk = removal.pk
    transaction.on_commit(lambda: remove_router_domain.enqueue(pk), robust=True)
    return removal


def remove(removal: RouterDomainRemoval, provider: RouterProvider | None = None) -> str:
    """Take the host off the router, unless an account records it again; returns what happened.

    ``done``: removed (or already gone); ``kept``: some account wants it again, the router keeps
    it; ``failed``: the call failed, the removal is retried later.
    """
    provider = provider or get_provider()
    if RouterDomain.objects.filter(hostname=removal.hostname).exists():
        RouterDomainRemoval.objects.filter(pk=removal.pk).delete()
        return "kept"
    now = timezone.now()
    try:
        ref = removal.provider_id or removal.hostname
        gone = provider.remove(ref) if provider.managed else False
        if ref != removal.hostname and not gone:  # the id may be stale: try the name too
            provider.remove(removal.hostname)
    except ProviderError as exc:
        attempts = removal.attempts + 1
        RouterDomainRemoval.objects.filter(pk=removal.pk).update(
            attempts=attempts, detail=f"{exc} (attempt {attempts})"[:255],
            next_attempt_at=now + backoff(attempts, exc.retry_after))
        logger.warning("removing router domain %s: %s", removal.hostname, exc)
        return "failed"
    RouterDomainRemoval.objects.filter(pk=removal.pk).delete()
    logger.info("router domain %s removed", removal.hostname)
    return "done"


@dataclass
class Recheck:
    """What the scheduled re-check did."""

    checked: list[RouterDomain]
    errors: dict[str, str]  # hostname -> the failed call's message
    removals: dict[str, str]  # hostname -> done/kept/failed

    @property
    def failures(self) -> list[str]:
        lines = [f"{hostname}: {error}" for hostname, error in self.errors.items()]
        lines += [f"removal of {h} failed" for h, outcome in self.removals.items() if outcome == "failed"]
        return lines


def recheck_due(hostnames: Iterable[str] = (), now: datetime | None = None) -> Recheck:
    """Sync every router domain whose next attempt is due (or those named, whatever their
    schedule), and retry the due removals. Cross-tenant: for commands and the worker only;
    each host is synced inside its account's tenant context."""
    now = now or timezone.now()
    names = [h.lower() for h in hostnames]
    provider = get_provider()
    rows = RouterDomain.objects.order_by("account_id", "hostname")
    if names:
        rows = rows.filter(hostname__in=names)
    elif provider.managed:
        rows = rows.filter(next_attempt_at__lte=now) | rows.filter(state=RouterDomain.MANUAL)
    else:
        rows = rows.exclude(state=RouterDomain.MANUAL)
    checked, errors = [], {}
    for account_id, pk in list(rows.values_list("account_id", "pk")):
        with tenant_context(account_id):
            row = RouterDomain.objects.filter(account_id=account_id, pk=pk).first()
            if row is None:  # removed meanwhile
                continue
            error = sync(row, provider)
        checked.append(row)
        if error:
            errors[row.hostname] = error
    removals = {}
    due = RouterDomainRemoval.objects.filter(next_attempt_at__lte=now)
    if names:
        due = RouterDomainRemoval.objects.filter(hostname__in=names)
    for pk, hostname in list(due.values_list("pk", "hostname")):
        removals[hostname] = remove_router_domain.call(pk)
    return Recheck(checked, errors, removals)


# --- the tasks: here, beside the steps they run and the steps that enqueue them --------------
@tenant_task
def sync_router_domain(account_id: int, router_domain_id: int) -> str:
    """One provisioning step of the account's router domain; returns its state.

    Only a row recorded for ``account_id`` is touched (another tenant's id finds nothing)."""
    row = RouterDomain.objects.filter(account_id=account_id, pk=router_domain_id).first()
    if row is None:
        return "gone"
    sync(row)
    return row.state


@platform_task
def remove_router_domain(removal_id: int) -> str:
    """Take a host no account records any more off the router (``done``/``kept``/``failed``)."""
    removal = RouterDomainRemoval.objects.filter(pk=removal_id).first()
    if removal is None:
        return "gone"
    return remove(removal)
