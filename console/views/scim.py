"""The console's SCIM page (Settings > Security > SCIM provisioning): the base URL to give the
identity provider, and its tokens (created, shown once, revoked after a confirmation)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from accounts.permissions import account_admin_required
from accounts.requests import TenantRequest
from identity.scim.models import ScimToken

from ..forms import ScimTokenForm


@account_admin_required
def scim_tokens(request: TenantRequest) -> HttpResponse:
    """List the account's SCIM tokens and create one (its value is shown once)."""
    form = ScimTokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        token, new_token = ScimToken.create(request.account, form.cleaned_data["name"],
                                            getattr(request, "user_profile", None))
        messages.success(request, f"Token {token.prefix} created. Copy it now: it is not shown again.")
        form = ScimTokenForm()
    response = render(request, "console/scim_tokens.html", {
        "tokens": ScimToken.objects.filter(account=request.account),
        "form": form, "new_token": new_token,
        "base_url": request.build_absolute_uri("/scim/v2/"),
    })
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


@account_admin_required
def scim_token_revoke(request: TenantRequest, pk: int) -> HttpResponse:
    """GET: asks to confirm; POST: revokes the token for good."""
    token = get_object_or_404(ScimToken.objects.filter(account=request.account), pk=pk)
    if request.method != "POST":
        return render(request, "console/scim_token_revoke.html", {"token": token})
    if token.is_active:
        token.revoke()
    messages.success(request, f"Token {token.prefix} revoked.")
    return redirect("scim-tokens")
