"""Forget an account's cached verified domains when one of its email domains changes."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tenancy.cache import invalidate_with_commit

from .cache_keys import verified_key
from .models import EmailDomain


@receiver(post_save, sender=EmailDomain)
@receiver(post_delete, sender=EmailDomain)
def email_domain_changed(sender: Any, instance: EmailDomain, **kwargs: Any) -> None:
    invalidate_with_commit(verified_key(instance.account_id))
