"""Patterns served on every host kind, and the error handlers."""

from django.contrib import admin
from django.urls import include, path

from operations import views as operations_views
from smarter import views
from workspaces.views import home

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error

urlpatterns = [
    path("", home, name="home"),
    path("healthz", operations_views.healthz, name="healthz"),
    path("metrics", operations_views.metrics, name="metrics"),
    path("ops/", include("operations.urls")),
    path("accounts/profile/", include("identity.profiles.urls")),  # before allauth's accounts/ URLs
    path("", include("identity.frontdoor.urls")),
    path("console/", include("console.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
]
