"""A mail task's sent-marker: the retry of a task whose worker died must not mail twice."""

from __future__ import annotations

from django.db import models
from django_tasks_db.models import DBTaskResult


class SentMail(models.Model):
    """One ``send_email`` task that got as far as sending (a platform table: no account).

    Written, and committed, before the message goes out (removed again if sending fails), so a
    retried task finds it and does not send again: at most once, never twice. Goes with its
    task result (pruning task results prunes these)."""

    task = models.OneToOneField(DBTaskResult, on_delete=models.CASCADE, primary_key=True,
                                related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"mail of task {self.task_id}"
