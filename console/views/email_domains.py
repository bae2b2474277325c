"""Console → Security → Email domains: add a domain, show its TXT record, verify, remove."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest
from identity.emaildomains.forms import EmailDomainForm
from identity.emaildomains.models import EmailDomain
from identity.emaildomains.verification import check_email_domain


@account_admin_required
def email_domain_list(request: TenantRequest) -> HttpResponse:
    form = EmailDomainForm(request.POST or None, account_id=request.account.pk)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                domain = EmailDomain.objects.create(account=request.account,
                                                    domain=form.cleaned_data["domain"])
        except IntegrityError:
            form.add_error("domain", "This account already has this domain.")
        else:
            messages.success(request, f"{domain.domain} added. Create the TXT record below, "
                                      "then press Verify now.")
            return redirect("email-domains")
    return render(request, "console/email_domains.html", {
        "domains": EmailDomain.objects.filter(account=request.account), "form": form,
    })


@require_POST
@account_admin_required
def email_domain_verify(request: TenantRequest, pk: int) -> HttpResponse:
    domain = get_object_or_404(EmailDomain.objects.filter(account=request.account), pk=pk)
    found, detail = check_email_domain(domain)
    (messages.success if found else messages.error)(request, f"{domain.domain}: {detail}")
    return redirect("email-domains")


@require_POST
@account_admin_required
def email_domain_delete(request: TenantRequest, pk: int) -> HttpResponse:
    domain = get_object_or_404(EmailDomain.objects.filter(account=request.account), pk=pk)
    domain.delete()
    messages.success(request, f"{domain.domain} removed: its addresses are no longer trusted "
                              "from your identity providers.")
    return redirect("email-domains")
