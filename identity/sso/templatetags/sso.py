"""``{% sso_buttons %}``: "Sign in with <provider>" forms for the host's account's providers
(from the tenant cache: no query on a warm page)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django import template
from django.db import InterfaceError, OperationalError
from django.urls import reverse

from ..caching import ProviderConfig, account_providers

register = template.Library()
logger = logging.getLogger(__name__)


def login_url(slug: str, kind: str) -> str:
    if kind == "oidc":
        return reverse("openid_connect_login", kwargs={"provider_id": slug})
    return reverse("saml_login", kwargs={"organization_slug": slug})


def idp_origin(config: ProviderConfig) -> str:
    """Where the sign-in form's redirect goes: the authorization endpoint's origin (OIDC, from
    the stored discovery document; the issuer's before it is checked) or the SSO URL's."""
    if config.kind == "oidc":
        where = str(config.oidc_discovery.get("authorization_endpoint") or config.issuer)
    else:
        where = config.idp_sso_url or config.idp_metadata_url
    url = urlsplit(where)
    return f"{url.scheme}://{url.netloc}" if url.scheme in ("http", "https") and url.netloc else ""


@register.inclusion_tag("sso/buttons.html", takes_context=True)
def sso_buttons(context: Any) -> dict[str, Any]:
    """The buttons; the page's form-action policy admits the providers' origins (a form's
    redirect is held to the policy of the page that submitted it)."""
    request = context.get("request")
    account = getattr(request, "account", None)
    try:
        providers = account_providers(account.pk if account is not None else None)
    except (OperationalError, InterfaceError):
        # The database is down and this process never cached the list: the sign-in page still
        # renders (as it did before single sign-on), without buttons that could not work now.
        logger.warning("sign-in page without single sign-on buttons: database unavailable")
        providers = ()
    origins = sorted({o for o in map(idp_origin, providers) if o})
    if origins and request is not None:
        request._csp_update = {"form-action": origins}
    return {"providers": [(p.name, login_url(p.slug, p.kind)) for p in providers],
            "csrf_token": context.get("csrf_token"),
            "next": request.GET.get("next", "") if request is not None else ""}
