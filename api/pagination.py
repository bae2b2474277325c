"""Page-number pagination; the page size comes from settings (API_PAGE_SIZE) per request.

``page`` and ``page_size`` must be positive integers when given (400 otherwise, instead of
DRF's silent fallback); a page past the end is 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


def _positive(request: Any, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9 and int(raw) >= 1):
        raise ValidationError({name: ["A positive integer is required."]})
    return int(raw)


class ApiPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200
    last_page_strings = ()

    @property
    def page_size(self) -> int:  # type: ignore[override]
        return int(settings.API_PAGE_SIZE)

    def get_page_size(self, request: Any) -> int:
        size = _positive(request, self.page_size_query_param)
        return self.page_size if size is None else min(size, self.max_page_size)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """DRF's parameters with the bounds enforced above: 1 to 999,999,999 (nine digits)."""
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(minimum=1, maximum=999_999_999)
        return parameters

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        _positive(request, self.page_query_param)
        return super().paginate_queryset(queryset, request, view)
