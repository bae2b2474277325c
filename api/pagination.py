"""Page-number pagination; the page size comes from settings (API_PAGE_SIZE) per request."""

from __future__ import annotations

from django.conf import settings
from rest_framework.pagination import PageNumberPagination


class ApiPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200

    @property
    def page_size(self) -> int:  # type: ignore[override]
        return int(settings.API_PAGE_SIZE)
