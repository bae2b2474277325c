"""``/api/v1/usage/``: the account's daily usage (requests, API calls, active members), for
account admins. Figures are written by each server process every ``USAGE_FLUSH_INTERVAL``."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import usage

from .permissions import IsAccountAdmin


class UsageDaySerializer(serializers.Serializer):
    day = serializers.DateField()
    requests = serializers.IntegerField()
    api_calls = serializers.IntegerField()
    active_members = serializers.IntegerField()


class UsageSerializer(serializers.Serializer):
    results = UsageDaySerializer(many=True)


class UsageView(APIView):
    permission_classes = [IsAccountAdmin]

    @extend_schema(
        summary="The account's daily usage, newest day first",
        parameters=[OpenApiParameter("days", {"type": "integer", "minimum": 1, "maximum": 366},
                                     description="How many days back (1-366, default 30)")],
        responses=UsageSerializer,
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raw = request.query_params.get("days", "30")
        try:
            days = int(raw)
        except ValueError:
            days = 0
        if not 1 <= days <= 366:
            raise ValidationError({"days": ["A whole number from 1 to 366."]})
        rows = usage.daily(request.account.pk, days=days)  # type: ignore[attr-defined]
        return Response({"results": UsageDaySerializer(rows, many=True).data})
