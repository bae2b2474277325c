"""Adding a custom domain: the one place the console and the API claim a hostname.

A hostname is held platform-wide by the first account that adds it (``HostnameClaim``), but a
claim nobody proved must not squat it:

* an account has at most ``CUSTOM_DOMAIN_MAX_PENDING`` domains waiting for verification;
* a hostname another account holds *unproven* (pending, or suspended: its TXT record is gone)
  goes to the account that proves it: that account is shown a TXT value of its own for the
  same record name (``proof_token``: derived from the account and the hostname, so nothing is
  stored for an account that only asks), and adding the domain again once the record carries
  it removes the other account's claim and adds the domain here, verified. A verified domain
  is never taken over.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from accounts.models import UserProfile
from tenancy.wall import crossing
from workspaces.models import Workspace

from . import lookup
from .models import ALREADY_REGISTERED, CHALLENGE_LABEL, Domain, HostnameClaim


class ClaimRefused(Exception):
    """The domain cannot be added; ``message`` says why and what to do. ``conflict``: another
    account holds the hostname (the API's 409), else a limit of this account (400)."""

    def __init__(self, message: str, *, conflict: bool) -> None:
        super().__init__(message)
        self.message, self.conflict = message, conflict


def proof_token(account_id: int, hostname: str) -> str:
    """The TXT value that proves ``account_id`` controls ``hostname`` (stable, secret-keyed)."""
    digest = salted_hmac("domains.claims.proof_token", f"{int(account_id)}:{hostname}").hexdigest()
    return "smarter-verify-" + digest[:32]


def _check_pending_limit(account_id: int) -> None:
    limit = int(settings.CUSTOM_DOMAIN_MAX_PENDING)
    if Domain.objects.filter(account_id=account_id, status=Domain.PENDING).count() >= limit:
        raise ClaimRefused(
            f"This account has {limit} domain{'' if limit == 1 else 's'} waiting for verification, "
            "the most it may have. "
            "Verify one (create its DNS records, then press Verify now) or remove one, then add "
            "this domain.", conflict=False)


def _unproven_holder(hostname: str, account_id: int) -> Domain | None:
    """Another account's domain holding ``hostname`` while unproven; ClaimRefused when the
    hostname is this account's already or another account's verified domain; None when free."""
    with crossing("a custom domain's claim: which account holds it, and has it proven it"):
        claim = HostnameClaim.objects.filter(hostname=hostname).first()
        if claim is None:
            return None
        if claim.account_id == account_id:
            raise ClaimRefused("This domain is already one of this account's domains.", conflict=True)
        held = Domain.objects.filter(account_id=claim.account_id, hostname=hostname).first()
    if held is None or held.status == Domain.VERIFIED:
        raise ClaimRefused(ALREADY_REGISTERED, conflict=True)
    return held


def _take_over(held: Domain, owner: UserProfile, workspace: Workspace | None, token: str) -> Domain:
    """Remove ``held`` (another account's unproven claim) and add the domain for ``owner``,
    verified, in one transaction under the claim's row lock."""
    now = timezone.now()
    with transaction.atomic(), crossing("a proven custom domain takes over another account's unproven claim"):
        list(HostnameClaim.objects.select_for_update().filter(hostname=held.hostname).values_list("pk"))
        row = Domain.objects.select_for_update().filter(pk=held.pk).first()
        if row is None or row.status == Domain.VERIFIED:  # removed or proven meanwhile
            raise ClaimRefused(ALREADY_REGISTERED, conflict=True)
        row.delete()  # releases its claim (domains.signals)
        domain = Domain(hostname=held.hostname, workspace=workspace, user_profile=owner, token=token,
                        status=Domain.VERIFIED, verified_at=now, last_checked_at=now,
                        last_check_detail="TXT record found: the domain was taken over from an "
                                          "unverified claim of another account.")
        domain.save()
    return domain


def add_domain(owner: UserProfile, hostname: str, workspace: Workspace | None = None) -> Domain:
    """Add ``hostname`` (normalised) for ``owner``'s account: a new pending domain, or another
    account's unproven claim taken over when the TXT record carries this account's
    :func:`proof_token`. Raises ClaimRefused with the message to show."""
    account_id = owner.account_id
    held = _unproven_holder(hostname, account_id)
    if held is None:
        _check_pending_limit(account_id)
        domain = Domain(hostname=hostname, workspace=workspace, user_profile=owner)
        try:
            with transaction.atomic():
                domain.save()
        except IntegrityError:  # claimed concurrently (the claim's unique index)
            raise ClaimRefused(ALREADY_REGISTERED, conflict=True) from None
        return domain
    token = proof_token(account_id, hostname)
    record = f"{CHALLENGE_LABEL}.{hostname}"
    try:
        proven = token in lookup.txt_values(record)
    except lookup.DnsLookupError as exc:
        raise ClaimRefused(f"{hostname} is registered by another account but not verified; its "
                           f"DNS could not be checked now ({exc}). Try again later.", conflict=True) from None
    if not proven:
        raise ClaimRefused(
            f"{hostname} is registered by another account and waiting for its owner to prove it. "
            f"If the domain is yours, create the TXT record {record} with the value {token} "
            "(it may stay next to another value), then add the domain again: it becomes this "
            "account's, verified.", conflict=True)
    return _take_over(held, owner, workspace, token)

