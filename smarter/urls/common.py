"""Patterns served on every host kind, and the error handlers."""

from django.contrib import admin
from django.urls import include, path

from accounts import views as account_views
from smarter import views
from workspaces.views import home

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error

urlpatterns = [
    path("", home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", account_views.TenantLoginView.as_view(), name="login"),
    path("logout/", account_views.TenantLogoutView.as_view(), name="logout"),
    path("console/", include("accounts.urls")),
    path("console/workspaces/", include("workspaces.urls")),
    path("console/audit/", include("audit.urls")),
    path("console/", include("lifecycle.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
]
