"""The console's Domains page: add, list with the DNS records to create, verify, remove,
choose the workspace served and the canonical domain."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest
from accounts.utils import get_cached_admin_user_for_account, get_cached_profile
from domains.canonical import set_canonical
from domains.claims import ClaimRefused, add_domain
from domains.forms import DomainForm, WorkspaceChoiceForm
from domains.models import Domain
from domains.verification import check_domain


def _domains(request: TenantRequest) -> QuerySet[Domain]:
    return Domain.objects.filter(account=request.account)


def _owner(request: TenantRequest):  # type: ignore[no-untyped-def]
    """The acting admin's profile; a superuser without one acts for the account's admin."""
    if request.user_profile is not None:
        return request.user_profile
    admin = get_cached_admin_user_for_account(request.account)
    return get_cached_profile(admin.pk, request.account.pk)


@account_admin_required
def domain_list(request: TenantRequest) -> HttpResponse:
    form = DomainForm(request.POST or None, account_id=request.account.pk)
    if request.method == "POST" and form.is_valid():
        try:
            domain = add_domain(_owner(request), form.cleaned_data["hostname"],
                                form.cleaned_data["workspace"])
        except ClaimRefused as exc:
            form.add_error("hostname", exc.message)
        else:
            if domain.status == Domain.VERIFIED:
                messages.success(request, f"{domain.hostname} is verified and now this account's.")
            else:
                messages.success(request, f"{domain.hostname} added. Create the DNS records below, then "
                                          "press Verify now.")
            return redirect("domains")
    domains = _domains(request).select_related("workspace").order_by("hostname")
    return render(request, "console/domains.html", {
        "domains": [(d, WorkspaceChoiceForm(initial={"workspace": d.workspace_id},
                                            account_id=request.account.pk)) for d in domains],
        "form": form,
    })


@require_POST
@account_admin_required
def domain_verify(request: TenantRequest, pk: int) -> HttpResponse:
    domain = get_object_or_404(_domains(request), pk=pk)
    outcome = check_domain(domain)
    if outcome.domain is None:
        messages.error(request, f"{domain.hostname} was removed meanwhile.")
    elif outcome.token_found:
        messages.success(request, f"{domain.hostname} is verified and served.")
    else:
        messages.error(request, f"{domain.hostname}: {outcome.detail}")
    return redirect("domains")


@require_POST
@account_admin_required
def domain_workspace(request: TenantRequest, pk: int) -> HttpResponse:
    domain = get_object_or_404(_domains(request), pk=pk)
    form = WorkspaceChoiceForm(request.POST, account_id=request.account.pk)
    if form.is_valid():
        domain.workspace = form.cleaned_data["workspace"]
        domain.save(update_fields=["workspace", "updated_at"])
        target = domain.workspace.name if domain.workspace else "the account's home page"
        messages.success(request, f"{domain.hostname} now serves {target}.")
    else:
        messages.error(request, "Choose one of this account's workspaces.")
    return redirect("domains")


@require_POST
@account_admin_required
def domain_canonical(request: TenantRequest, pk: int) -> HttpResponse:
    domain = get_object_or_404(_domains(request), pk=pk)
    make = request.POST.get("canonical") == "1"
    if make and domain.status != Domain.VERIFIED:
        messages.error(request, "Only a verified domain can be canonical.")
        return redirect("domains")
    try:
        set_canonical(request.account, domain if make else None)
    except IntegrityError:
        messages.error(request, "Another change to the canonical domain happened at the same time; "
                                "try again.")
    else:
        messages.success(request, f"{domain.hostname} is now canonical: the number host's pages "
                                  "redirect there." if make else "No canonical domain any more.")
    return redirect("domains")


@require_POST
@account_admin_required
def domain_delete(request: TenantRequest, pk: int) -> HttpResponse:
    domain = get_object_or_404(_domains(request), pk=pk)
    domain.delete()
    messages.success(request, f"{domain.hostname} removed; it is no longer served.")
    return redirect("domains")
