"""``{% console_sidebar %}``: the console's navigation, the current page marked."""

from __future__ import annotations

from typing import Any

from django import template

from ..navigation import sidebar

register = template.Library()


@register.inclusion_tag("console/sidebar.html", takes_context=True)
def console_sidebar(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    return sidebar(match.url_name if match is not None else None)
