"""Every outgoing mail goes through :func:`send_mail`: text and HTML, naming the account and
its host. allauth's mails arrive here through ``TenantAccountAdapter.send_mail``.

Mails leave the request path: :func:`send_mail` renders the message and enqueues it on the
``send_email`` task (``accounts.tasks``), in the caller's transaction, for the mail's account.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.context import make_context
from django.template.loader import get_template, render_to_string

from tenancy.hosts import tenant_host

from .caching import get_cached_default_account
from .tasks import send_email


def mail_context(request: HttpRequest | None, account: Any = None) -> dict[str, Any]:
    """The account a mail speaks for (the request's unless given) and its host."""
    account = account if account is not None else getattr(request, "account", None)
    host = request.get_host() if request is not None else settings.ROOT_DOMAIN
    if account is not None and request is not None and not getattr(account, "is_default_account", True):
        host = tenant_host(account.account_number)
    host = host.split(":")[0]
    name = account.company_name if account is not None else "Smarter"
    # allauth's mail templates name ``current_site``: the account and its host.
    return {"account": account, "mail_host": host,
            "current_site": SimpleNamespace(name=name, domain=host)}


def render_text(template_name: str, context: dict[str, Any], request: HttpRequest | None = None) -> str:
    """A plain-text template rendered without HTML escaping: ``A & B`` stays ``A & B`` in a
    subject or a text body (escaping is for the HTML part only)."""
    template = get_template(template_name)
    return str(template.template.render(make_context(context, request, autoescape=False)))  # type: ignore[attr-defined]


def render_mail(template_prefix: str, to: str, context: dict[str, Any],
                request: HttpRequest | None = None) -> EmailMultiAlternatives:
    """``<prefix>_subject.txt``, ``<prefix>_message.txt`` and ``<prefix>_message.html`` (or
    the text in ``emails/layout.html``), prefixed and signed with the account and host."""
    ctx = {**context, **mail_context(request, context.get("account"))}
    account = ctx.get("account")
    subject = " ".join(render_text(f"{template_prefix}_subject.txt", ctx, request).split())
    if account is not None and not subject.startswith("["):
        subject = f"[{account.company_name}] {subject}"
    text = render_text(f"{template_prefix}_message.txt", ctx, request).strip()
    ctx["text_body"] = text
    try:
        html = render_to_string(f"{template_prefix}_message.html", ctx, request)
    except TemplateDoesNotExist:
        html = render_to_string("emails/layout.html", ctx, request)
    text += "\n\n" + render_text("emails/signature.txt", ctx, request).strip() + "\n"
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    return message


def send_mail(template_prefix: str, to: str, context: dict[str, Any],
              request: HttpRequest | None = None) -> None:
    """Render one mail (see :func:`render_mail`) and hand it to the ``send_email`` task of
    the account it speaks for (the default account's for platform mail)."""
    message = render_mail(template_prefix, to, context, request)
    account = mail_context(request, context.get("account"))["account"]
    account_id = account.pk if account is not None else get_cached_default_account().pk
    html = next((str(body) for body, mime in message.alternatives if mime == "text/html"), "")
    send_email.enqueue(account_id, message.subject, message.body, list(message.to),
                       html_body=html, from_email=message.from_email)
