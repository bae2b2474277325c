"""Mail leaves the request path: every message is sent by the ``send_email`` task.

Build the message where it is decided (subject, bodies, recipients), then::

    from accounts.tasks import send_email
    send_email.enqueue(account.pk, subject, text_body, recipients, html_body=html, from_email=None)

``account_id`` is the tenant the mail is about (the default account's for platform mail such
as sign-up). With the database backend the task row is written in the caller's transaction, so
a mail about a change that rolls back is never sent; the worker retries nothing by itself
(a failed send is recorded on the task result and logged).
"""

from __future__ import annotations

import logging

from django.core.mail import EmailMultiAlternatives

from tenancy.tasks import tenant_task

logger = logging.getLogger(__name__)


@tenant_task
def send_email(
    account_id: int,
    subject: str,
    text_body: str,
    recipients: list[str],
    html_body: str = "",
    from_email: str | None = None,
) -> int:
    """Send one already-built message (text, optionally with an HTML alternative).

    ``from_email`` None means ``DEFAULT_FROM_EMAIL``. Returns the number of messages sent (0/1).
    """
    if not recipients:
        raise ValueError("send_email needs at least one recipient")
    message = EmailMultiAlternatives(subject, text_body, from_email, list(recipients))
    if html_body:
        message.attach_alternative(html_body, "text/html")
    sent = message.send()
    logger.info("sent mail %r to %d recipient(s) for account %s", subject, len(recipients), account_id)
    return sent
