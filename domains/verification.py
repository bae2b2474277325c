"""Check a domain's DNS and move it between pending, verified and suspended.

* the TXT record ``_smarter-challenge.<hostname>`` carries the token: verified (again);
* it does not, on a pending or suspended domain: unchanged, with the reason recorded;
* it does not, on a verified domain: ``failing_since`` is set at the first miss; once
  ``CUSTOM_DOMAIN_GRACE_PERIOD`` seconds have passed the domain is suspended and the
  account's admins are emailed;
* the lookup fails (timeout, SERVFAIL): nothing changes but the detail, and the caller
  learns it (``check_domains`` exits non-zero).

DNS is asked outside any transaction; the state change then happens on the row locked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.models import UserProfile

from . import lookup
from .models import Domain

logger = logging.getLogger(__name__)


@dataclass
class CheckOutcome:
    """What one check found and did."""

    domain: Domain | None  # None: removed meanwhile
    token_found: bool = False
    lookup_failed: bool = False
    suspended_now: bool = False
    mail_failed: bool = False
    detail: str = ""


def _lookup(domain: Domain) -> tuple[bool, str, str, bool]:
    """(token found, detail, cname target, lookup failed) for the domain's records."""
    try:
        values = lookup.txt_values(domain.challenge_name)
    except lookup.DnsLookupError as exc:
        return False, f"DNS lookup failed: {exc}", domain.cname_target, True
    try:
        cname = lookup.cname_target(domain.hostname)
    except lookup.DnsLookupError:
        cname = domain.cname_target  # the TXT answer decides; keep what we knew
    if domain.token in values:
        return True, "TXT record found.", cname, False
    if values:
        wrong = f"The TXT record at {domain.challenge_name} does not carry this domain's token."
        return False, wrong, cname, False
    return False, f"No TXT record at {domain.challenge_name}.", cname, False


def check_domain(domain: Domain, now: datetime | None = None) -> CheckOutcome:
    """Look up ``domain``'s records and apply the state change; returns what happened."""
    found, detail, cname, failed = _lookup(domain)
    now = now or timezone.now()
    grace = timedelta(seconds=settings.CUSTOM_DOMAIN_GRACE_PERIOD)
    with transaction.atomic():
        row = Domain.objects.select_for_update().filter(pk=domain.pk).first()
        if row is None:
            return CheckOutcome(None, detail="The domain was removed meanwhile.")
        outcome = CheckOutcome(row, token_found=found, lookup_failed=failed)
        row.last_checked_at, row.cname_target = now, cname
        if found:
            if row.status != Domain.VERIFIED:
                row.status, row.verified_at = Domain.VERIFIED, now
            row.failing_since = None
        elif not failed and row.status == Domain.VERIFIED:
            row.failing_since = row.failing_since or now
            if now - row.failing_since >= grace:
                row.status = Domain.SUSPENDED
                outcome.suspended_now = True
                detail += " The domain is suspended until the record is back."
            else:
                deadline = row.failing_since + grace
                detail += f" Suspended if still missing after {deadline:%Y-%m-%d %H:%M} UTC."
        row.last_check_detail = detail[:255]
        outcome.detail = detail
        row.save(update_fields=["status", "verified_at", "failing_since", "last_checked_at",
                                "last_check_detail", "cname_target", "updated_at"])
    if outcome.suspended_now:
        outcome.mail_failed = not _tell_admins(row)
    return outcome


def admin_emails(account_id: int) -> list[str]:
    """Addresses of the account's active admins."""
    return sorted(set(
        UserProfile.objects.filter(account_id=account_id, role=UserProfile.ROLE_ADMIN, is_active=True,
                                   user__is_active=True)
        .exclude(user__email="").values_list("user__email", flat=True)
    ))


def _tell_admins(domain: Domain) -> bool:
    """Email the account's admins that ``domain`` was suspended; False if sending failed."""
    recipients = admin_emails(domain.account_id)
    if not recipients:
        logger.warning("domain %s suspended; its account has no admin with an email", domain.hostname)
        return True
    body = (
        f"The custom domain {domain.hostname} no longer serves your account: its DNS record\n"
        f"  {domain.challenge_name}  TXT  {domain.token}\n"
        f"has been missing since {domain.failing_since:%Y-%m-%d %H:%M} UTC.\n\n"
        "Put the record back, then press \"Verify now\" on the Domains page of your console;\n"
        "the domain is served again as soon as the record is found.\n"
    )
    try:
        send_mail(f"Custom domain {domain.hostname} suspended", body, None, recipients)
    except Exception:  # noqa: BLE001 - the suspension stands; the operator sees the failure
        logger.exception("could not email the admins of account %s about %s", domain.account_id,
                         domain.hostname)
        return False
    return True
