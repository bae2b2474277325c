"""The console's audit log page: the account's events as sentences, filtered and paginated."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest
from audit.filters import every_account_crossing, visible_events
from audit.sentences import describe

from ..forms import AuditLogFilterForm, audit_actors

PAGE_SIZE = 50


@account_admin_required
def audit_log(request: TenantRequest) -> HttpResponse:
    # The platform superuser's crossing spans building, counting and rendering the events.
    with every_account_crossing(request.user, request.account.is_default_account):
        form = AuditLogFilterForm(request.GET or None, actors=audit_actors(request.account))
        events = visible_events(request.account.pk, request.user,
                                request.account.is_default_account)
        if form.is_bound and form.is_valid():
            events = form.filter(events)
        elif form.is_bound:
            events = events.none()
        page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        return render(request, "console/audit.html", {
            "form": form, "page": page, "told": describe(page), "query": query.urlencode(),
        }, status=400 if form.errors else 200)
