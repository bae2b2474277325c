"""The console's account contacts: list (searched and paged on the server), add, make
primary, remove."""

from __future__ import annotations

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.models import AccountContact
from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest

from ..forms import ContactForm
from ..paging import SearchText, paged_list

# A contact's email, first and last name: what the search reads (the account's contacts, in
# page order: no trigram index serves a table behind the wall, accounts migration 0017).
SEARCH_TEXT = SearchText(F("email"), F("first_name"), F("last_name"))
# The page's order (the primary first, then by address): accounts migration 0017's index.
ORDER = ("-is_primary", "email")


@account_admin_required
def contacts(request: TenantRequest) -> HttpResponse:
    """A page of the contacts (two queries whatever their number: the capped count and the
    page), searched by address or name, and adding one."""
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
    rows = AccountContact.objects.filter(account=request.account).order_by(*ORDER)
    return render(request, "console/contacts.html", {
        **paged_list(request, rows, SEARCH_TEXT), "form": form,
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
