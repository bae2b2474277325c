"""The audit log's retention purge (scheduled by ``manage.py run_lifecycle``)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from tenancy.tasks import platform_task

from .models import AuditEvent

logger = logging.getLogger(__name__)


@platform_task
def purge_audit_events() -> int:
    """Delete events older than ``AUDIT_RETENTION_DAYS`` (all accounts). Returns the count."""
    cutoff = timezone.now() - timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted = AuditEvent.objects.filter(created_at__lt=cutoff).purge()
    logger.info("purged %d audit events older than %s", deleted, cutoff.isoformat())
    return deleted
