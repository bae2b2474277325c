"""OpenAPI: every operation documents the JSON error shape for its error statuses."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema

from .serializers import ErrorSerializer


class ApiAutoSchema(AutoSchema):
    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        statuses = ["400", "401", "403", "404", "405", "406", "409", "415", "429"]
        if self.method == "GET":
            statuses = ["400", "401", "403", "404", "405", "406", "429"]
        for code in statuses:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
        return responses
