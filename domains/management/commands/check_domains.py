"""Re-check every custom domain's DNS (schedule it, e.g. hourly); non-zero exit on failure."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser
from django.db import DatabaseError
from django.db.models import Count
from django.utils import timezone

from domains.hostnames import normalize_custom_domain
from domains.models import Domain
from domains.verification import check_domain
from routerdomains.models import RouterDomain
from routerdomains.provisioning import recheck_due
from tenancy.commands import PlatformCommand


class Command(PlatformCommand):
    help = (
        "Check the TXT record of every custom domain: pending ones become verified when it "
        "appears, verified ones are suspended (and their admins emailed) once it has been "
        "missing for CUSTOM_DOMAIN_GRACE_PERIOD. Pending domains never verified within "
        "CUSTOM_DOMAIN_PENDING_DAYS are released. Then the router domains (workspace wildcards, "
        "verified domains) whose next attempt is due are provisioned or re-checked, owed removals "
        "retried, and every router domain's state is printed. Exits non-zero if a lookup, an "
        "email or a router provider call failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--domain", action="append", default=[], metavar="HOSTNAME",
                            help="Check only this domain (repeatable).")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            domains = self._domains(options["domain"])
            failures = [f for f in (self._check(d) for d in domains) if f]
            released = 0 if options["domain"] else self._release_stale_pending()
            failures += self._router_domains([d.hostname for d in domains] if options["domain"] else [])
        except DatabaseError as exc:
            raise CommandError(f"Database unavailable: {exc.__class__.__name__}") from None
        summary = f"{len(domains)} domain(s) checked"
        if released:
            summary += f", {released} stale pending domain(s) released"
        if failures:
            raise CommandError(f"{summary}; {len(failures)} failed:\n  " + "\n  ".join(failures))
        self.stdout.write(summary + ".")

    def _domains(self, names: list[str]) -> list[Domain]:
        queryset = Domain.objects.order_by("hostname")
        if not names:
            return list(queryset)
        hostnames = []
        for name in names:
            try:
                hostnames.append(normalize_custom_domain(name))
            except Exception as exc:  # noqa: BLE001 - ValidationError: say which and why
                raise CommandError(f"{name!r}: {'; '.join(getattr(exc, 'messages', [str(exc)]))}") from None
        found = list(queryset.filter(hostname__in=hostnames))
        missing = sorted(set(hostnames) - {d.hostname for d in found})
        if missing:
            raise CommandError(f"No such custom domain: {', '.join(missing)}")
        return found

    def _router_domains(self, hostnames: list[str]) -> list[str]:
        """Provision/re-check the due router domains; print each one's state and a summary."""
        outcome = recheck_due(hostnames)
        for row in outcome.checked:
            when = f", next check {row.next_attempt_at:%Y-%m-%d %H:%M} UTC" if row.next_attempt_at else ""
            label = row.get_state_display().lower()
            self.stdout.write(f"router {row.hostname}: {label} - {row.detail}{when}")
        for hostname, result in outcome.removals.items():
            self.stdout.write(f"router {hostname}: removal {result}")
        counts = dict(RouterDomain.objects.order_by().values_list("state").annotate(n=Count("pk")))
        labels = dict(RouterDomain.STATE_CHOICES)
        summary = ", ".join(f"{counts[s]} {labels[s].lower()}" for s, _ in RouterDomain.STATE_CHOICES
                            if counts.get(s))
        self.stdout.write(f"router domains ({settings.ROUTER_DOMAIN_PROVIDER}): {summary or 'none'}")
        if counts.get(RouterDomain.MANUAL):
            self.stdout.write("  no router provider: the operator must route the hosts marked so "
                              "(ROUTER_DOMAIN_PROVIDER=none)")
        return outcome.failures

    def _release_stale_pending(self) -> int:
        cutoff = timezone.now() - timedelta(days=settings.CUSTOM_DOMAIN_PENDING_DAYS)
        stale = Domain.objects.filter(status=Domain.PENDING, created_at__lt=cutoff)
        count = 0
        for domain in stale:  # one by one: signals invalidate the routing cache
            domain.delete()
            count += 1
        return count

    def _check(self, domain: Domain) -> str:
        outcome = check_domain(domain)
        if outcome.domain is None:
            return ""
        self.stdout.write(f"{domain.hostname}: {outcome.domain.status} - {outcome.detail}")
        if outcome.lookup_failed:
            return f"{domain.hostname}: {outcome.detail}"
        if outcome.mail_failed:
            return f"{domain.hostname}: suspended, but the email to its admins could not be sent"
        return ""
