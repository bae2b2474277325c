"""The console's account contacts: add, make primary, remove."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import AccountContact
from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest

from ..forms import ContactForm


@account_admin_required
def contacts(request: TenantRequest) -> HttpResponse:
    form = ContactForm(request.POST or None, account=request.account)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                form.save()
        except IntegrityError:  # a concurrent request added the same email first
            form.add_error("email", "This email is already a contact of the account.")
        else:
            messages.success(request, "Contact added.")
            return redirect("contacts")
    return render(request, "console/contacts.html", {
        "contacts": AccountContact.objects.filter(account=request.account), "form": form,
    })


@require_POST
@account_admin_required
def contact_primary(request: TenantRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(AccountContact, account=request.account, pk=pk)
    with transaction.atomic():
        AccountContact.lock_account(request.account.pk)
        AccountContact.objects.filter(account=request.account, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False)
        contact.is_primary = True
        contact.save(update_fields=["is_primary", "updated_at"])
    messages.success(request, f"{contact.email} is now the primary contact.")
    return redirect("contacts")


@require_POST
@account_admin_required
def contact_delete(request: TenantRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(AccountContact, account=request.account, pk=pk)
    contact.delete()
    messages.success(request, f"{contact.email} removed.")
    return redirect("contacts")
