"""``/api/v1/exports/``: account admins request an export and follow its status."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from lifecycle.models import DataExport
from lifecycle.requests import ExportRefused, request_export

from .errors import Conflict
from .idempotency import idempotent_view
from .permissions import IsAccountAdmin, request_profile


class ExportSerializer(serializers.ModelSerializer):
    requested_by = serializers.CharField(source="requested_by.user.username", default=None,
                                         read_only=True)

    class Meta:
        model = DataExport
        fields = ["id", "status", "requested_by", "created_at", "finished_at", "expires_at",
                  "size", "error"]
        read_only_fields = fields


@extend_schema_view(
    create=extend_schema(request=None, responses={202: ExportSerializer},
                         summary="Request an export; the download link is emailed to the key's owner"),
)
class ExportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    viewsets.GenericViewSet):
    queryset = DataExport.objects.none()  # the schema's path types; requests use get_queryset
    serializer_class = ExportSerializer
    permission_classes = [IsAccountAdmin]

    def get_queryset(self) -> QuerySet[DataExport]:
        account = self.request.account  # type: ignore[attr-defined]
        return DataExport.objects.filter(account=account).select_related("requested_by__user")

    @idempotent_view
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        try:
            export = request_export(request._request, request_profile(request))
        except ExportRefused as exc:
            raise Conflict(str(exc)) from None
        return Response(ExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)
