"""OpenAPI: every operation documents the JSON error shape for its error statuses."""

from __future__ import annotations

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema

from .serializers import ErrorSerializer


class ApiAutoSchema(AutoSchema):
    def _creates(self) -> bool:
        from .idempotency import IDEMPOTENT_ACTIONS

        return self.method == "POST" and getattr(self.view, "action", None) in IDEMPOTENT_ACTIONS

    def get_override_parameters(self) -> list[Any]:
        """Creating operations take an ``Idempotency-Key`` header (api.idempotency)."""
        from .idempotency import PARAMETER

        parameters = list(super().get_override_parameters())
        return [*parameters, PARAMETER] if self._creates() else parameters

    def _get_response_bodies(
        self, direction: Literal["request", "response"] = "response"
    ) -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        statuses = ["400", "401", "403", "404", "405", "406", "409", "415", "429"]
        if self.method == "GET":
            statuses = ["400", "401", "403", "404", "405", "406", "429"]
        elif self._creates():
            statuses = [*statuses, "422"]
        for code in statuses:
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
        return responses
