"""``{% member_rows page.object_list user %}``: the members table's rows.

Built in Python with ``format_html``, as Django's admin builds its change list's rows
(``items_for_result``): at 50 rows a page the template language's lookups and filters were a
quarter of the page's time (docs/BENCHMARKS.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django import template
from django.template.defaultfilters import date
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

from accounts.models import UserProfile

if TYPE_CHECKING:
    from ..views.members import MemberRow

register = template.Library()

ROW = ('<tr data-member="{}">'
       '<td data-label="Name"><a href="{}/">{}</a>{}</td>'
       '<td data-label="Email">{}</td>'
       '<td data-label="Username">{}</td>'
       '<td data-label="Role">{}</td>'
       '<td data-label="Two-factor">{}</td>'
       '<td data-label="Last sign-in">{}</td>'
       '<td data-label="Status">{}</td>'
       '</tr>')
YOU = mark_safe(' <span class="muted">(you)</span>')
TWO_FACTOR = {True: mark_safe('<span class="on">On</span>'),
              False: mark_safe('<span class="off">Off</span>')}
STATUS = {True: "active", False: mark_safe('<span class="muted">deactivated</span>')}
ROLES = dict(UserProfile.ROLE_CHOICES)


@register.simple_tag
def member_rows(rows: Iterable[MemberRow], you: object) -> SafeString:
    """The ``<tr>`` of each member; ``you`` (the signed-in user) is marked "(you)"."""
    you_id = getattr(you, "pk", None)
    return format_html_join("\n", ROW, (
        (r.username, r.pk, f"{r.first_name} {r.last_name}".strip() or r.username,
         YOU if r.user_id == you_id else "", r.email or "–", r.username,
         ROLES.get(r.role, r.role), TWO_FACTOR[r.has_2fa],
         date(r.last_sign_in_at, "Y-m-d H:i") or "never", STATUS[r.is_active])
        for r in rows))
