"""Router-domain state in templates: the console's card and the tenant page's link choice."""

from __future__ import annotations

from typing import Any

from django import template
from django.conf import settings

from accounts.models import Account

from ..models import RouterDomain

register = template.Library()


@register.inclusion_tag("routerdomains/card.html")
def router_domains_card(account: Account, kind: str = "") -> dict[str, Any]:
    """The account's hosts on the router (``kind``: only workspaces or custom ones)."""
    rows = RouterDomain.objects.filter(account=account)
    if kind:
        rows = rows.filter(kind=kind)
    return {"router_domains": list(rows), "provider": settings.ROUTER_DOMAIN_PROVIDER,
            "account": account}


@register.simple_tag
def workspace_hosts_served(account: Account) -> bool:
    """Whether the account's workspace hosts can be linked: no provider (the operator routes
    them), or the provider issued the wildcard's certificate. No query without a provider."""
    if settings.ROUTER_DOMAIN_PROVIDER == "none":
        return True
    return RouterDomain.objects.filter(account=account, kind=RouterDomain.WORKSPACES,
                                       state=RouterDomain.ISSUED).exists()
