"""Mail leaves the request path: every message is sent by the ``send_email`` task.

Build the message where it is decided (subject, bodies, recipients), then::

    from accounts.tasks import send_email
    send_email.enqueue(account.pk, subject, text_body, recipients, html_body=html, from_email=None)

``account_id`` is the tenant the mail is about (the default account's for platform mail such
as sign-up). With the database backend the task row is written in the caller's transaction, so
a mail about a change that rolls back is never sent; the worker retries nothing by itself
(a failed send is recorded on the task result and logged).

A task whose worker died (or lost its database) mid-task is run again (``tenancy.stale_tasks``).
A message it had already handed to the mail server must not go out twice, so a stored task
records a sent-marker (:class:`accounts.models.SentMail`, keyed by the task's id) and commits it
*before* sending; the retry finds it and sends nothing. If the send itself fails, the marker
is removed, so a retry sends. A worker killed between the marker and the hand-over loses that
one message (at most once, never twice).
"""

from __future__ import annotations

import logging
from uuid import UUID

from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction

from tenancy.tasks import current_task_id, tenant_task

from .models import SentMail

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
    task_id = current_task_id(stored=True)
    if task_id is not None and not _claim(task_id):
        logger.warning("mail %r of task %s was sent by an earlier attempt: not sent again",
                       subject, task_id)
        return 0
    try:
        sent = message.send()
    except BaseException:
        if task_id is not None:  # not handed over: a retry may send it
            SentMail.objects.filter(pk=UUID(task_id)).delete()
        raise
    logger.info("sent mail %r to %d recipient(s) for account %s", subject, len(recipients), account_id)
    return sent


def _claim(task_id: str) -> bool:
    """Record (committed) that task ``task_id`` is sending its mail; False if it already was."""
    try:
        with transaction.atomic():
            SentMail.objects.create(task_id=UUID(task_id))
    except IntegrityError:
        return False
    return True
