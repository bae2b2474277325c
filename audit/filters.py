"""Filtering audit events by query parameters: shared by the console page and the API."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager, nullcontext
from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet

from tenancy.operation import SOURCES
from tenancy.wall import crossing

from .models import AuditEvent

ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class IsoDateField(forms.DateField):
    """A date written as the API documents it (``YYYY-MM-DD``, what a date input sends);
    Django's DateField also takes ``10/25/2006``, ``2006-1-5`` and other local forms."""

    def to_python(self, value: Any) -> date | None:
        if isinstance(value, str) and value and not ISO_DATE.fullmatch(value):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class AuditFilterForm(forms.Form):
    """``action``, ``target_kind``, ``target_id``, ``actor`` (username), ``source``,
    ``since``/``until`` (dates, inclusive)."""

    action = forms.CharField(required=False, max_length=64)
    target_kind = forms.CharField(required=False, max_length=100)
    target_id = forms.CharField(required=False, max_length=64)
    actor = forms.CharField(required=False, max_length=150)
    source = forms.ChoiceField(required=False, choices=[("", "any")] + [(s, s) for s in SOURCES])
    since = IsoDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = IsoDateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def filter(self, events: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        """``events`` narrowed by the valid fields (call after ``is_valid()``)."""
        data: dict[str, Any] = self.cleaned_data
        for name in ("action", "target_kind", "target_id", "source"):
            if data.get(name):
                events = events.filter(**{name: data[name]})
        if data.get("actor"):
            events = events.filter(actor_username=data["actor"])
        if data.get("since"):
            events = events.filter(created_at__date__gte=data["since"])
        if data.get("until"):
            events = events.filter(created_at__date__lte=data["until"])
        return events


def sees_every_account(user: Any, is_default_account: bool) -> bool:
    """A platform superuser on the default account's host reads every account's events."""
    return bool(user.is_superuser and is_default_account)


def every_account_crossing(user: Any, is_default_account: bool) -> AbstractContextManager[None]:
    """Around evaluating :func:`visible_events`: the database wall's named crossing for the
    platform superuser (``tenancy.wall``), nothing for anyone else."""
    if sees_every_account(user, is_default_account):
        return crossing("the platform superuser's audit log")
    return nullcontext()


def visible_events(account_id: int, user: Any, is_default_account: bool) -> QuerySet[AuditEvent]:
    """Events of ``account_id``; a platform superuser on the default account's host sees all."""
    if sees_every_account(user, is_default_account):
        return AuditEvent.objects.all()
    return AuditEvent.objects.filter(account_id=account_id)
