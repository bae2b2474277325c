"""The bare root domain: the platform's front page, then the default account's pages."""

from django.urls import path

from identity.frontdoor.views import front_page

from .common import handler400, handler403, handler404, handler500
from .common import urlpatterns as common_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]

urlpatterns = [path("", front_page, name="front-page"), *common_urlpatterns]
