"""The console's first page: the account at a glance (people, workspaces, domains, what
happened lately, usage), a fixed number of queries whatever the account's size."""

from __future__ import annotations

from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts import usage
from accounts.models import Invitation, UserProfile
from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest
from audit.models import AuditEvent
from audit.sentences import describe
from domains.models import Domain
from workspaces.models import Workspace

RECENT_EVENTS = 8
DOMAINS_SHOWN = 10


@account_admin_required
def console(request: TenantRequest) -> HttpResponse:
    account = request.account
    members = UserProfile.objects.filter(account=account).aggregate(
        total=Count("id"), active=Count("id", filter=Q(is_active=True)),
        admins=Count("id", filter=Q(is_active=True, role=UserProfile.ROLE_ADMIN)))
    pending = Invitation.objects.filter(account=account, accepted_at__isnull=True,
                                        revoked_at__isnull=True, expires_at__gt=timezone.now())
    domains = list(Domain.objects.filter(account=account).order_by("hostname")[:DOMAINS_SHOWN + 1])
    events = AuditEvent.objects.filter(account=account)[:RECENT_EVENTS]
    return render(request, "console/overview.html", {
        "members": members,
        "pending_invitations": pending.count(),
        "workspace_count": Workspace.objects.filter(account=account).count(),
        "domains": domains[:DOMAINS_SHOWN], "more_domains": len(domains) > DOMAINS_SHOWN,
        "recent": describe(events),
        "usage": usage.daily(account.pk, days=7),
    })
