"""``{% sso_buttons %}``: "Sign in with <provider>" forms for the host's account's providers
(from the tenant cache: no query on a warm page)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from ..caching import account_providers

register = template.Library()


def login_url(slug: str, kind: str) -> str:
    if kind == "oidc":
        return reverse("openid_connect_login", kwargs={"provider_id": slug})
    return reverse("saml_login", kwargs={"organization_slug": slug})


@register.inclusion_tag("sso/buttons.html", takes_context=True)
def sso_buttons(context: Any) -> dict[str, Any]:
    request = context.get("request")
    account = getattr(request, "account", None)
    providers = account_providers(account.pk if account is not None else None)
    return {"providers": [(p.name, login_url(p.slug, p.kind)) for p in providers],
            "csrf_token": context.get("csrf_token"),
            "next": request.GET.get("next", "") if request is not None else ""}
