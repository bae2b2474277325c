"""``/api/v1/audit-events/``: the account's audit events, read-only, for account admins."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError

from audit.filters import AuditFilterForm, every_account_crossing, visible_events
from audit.models import AuditEvent
from tenancy.operation import SOURCES

from .permissions import IsAccountAdmin


class AuditEventSerializer(serializers.ModelSerializer):
    account = serializers.SlugRelatedField(slug_field="account_number", read_only=True)
    actor = serializers.CharField(read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id", "created_at", "account", "actor", "actor_user_id", "actor_username",
            "actor_api_key_prefix", "source", "source_label", "action", "target_kind",
            "target_id", "target_repr", "changes", "request_id", "client_ip",
        ]
        read_only_fields = fields


_FILTERS = [
    OpenApiParameter(name, OpenApiTypes.DATE if name in ("since", "until") else OpenApiTypes.STR,
                     description=f"Only events with this {name}" if name not in ("since", "until")
                     else f"Events on or {'after' if name == 'since' else 'before'} this date",
                     enum=list(SOURCES) if name == "source" else None)
    for name in ("action", "target_kind", "target_id", "actor", "source", "since", "until")
]


@extend_schema_view(list=extend_schema(parameters=_FILTERS, summary="The account's audit events"))
class AuditEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Newest first. A platform superuser's key on the API host sees every account's events."""

    queryset = AuditEvent.objects.none()  # the schema's path types; requests use get_queryset
    serializer_class = AuditEventSerializer
    permission_classes = [IsAccountAdmin]

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        with every_account_crossing(request.user, request.account.is_default_account):
            return super().list(request, *args, **kwargs)

    def retrieve(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        with every_account_crossing(request.user, request.account.is_default_account):
            return super().retrieve(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[AuditEvent]:
        account = self.request.account  # type: ignore[attr-defined]
        events = visible_events(account.pk, self.request.user, account.is_default_account)
        if self.action == "list":
            params = self.request.query_params
            empty = {n: ["Enter a date as YYYY-MM-DD."] for n in ("since", "until")
                     if n in params and not params[n]}
            if empty:  # the console's form sends empty fields; the API documents dates
                raise ValidationError(empty)
            form = AuditFilterForm(params)
            if not form.is_valid():
                raise ValidationError(form.errors)
            events = form.filter(events)
        return events.select_related("account").order_by("-created_at", "-id")
