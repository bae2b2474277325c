"""/api/v1/ on the API host and every tenant host."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from . import views
from .audit_events import AuditEventViewSet
from .exports import ExportViewSet
from .usage import UsageView

router = SimpleRouter()
router.register("contacts", views.ContactViewSet, basename="api-contact")
router.register("users", views.UserProfileViewSet, basename="api-user")
router.register("workspaces", views.WorkspaceViewSet, basename="api-workspace")
router.register("api-keys", views.ApiKeyViewSet, basename="api-key")
router.register("domains", views.DomainViewSet, basename="api-domain")
router.register("invitations", views.InvitationViewSet, basename="api-invitation")
router.register("audit-events", AuditEventViewSet, basename="api-audit-event")
router.register("exports", ExportViewSet, basename="api-export")

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file (docs/?script), not inline: CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("account/", views.AccountView.as_view(), name="api-account"),
    path("usage/", UsageView.as_view(), name="api-usage"),
    path("", include(router.urls)),
    re_path(r"^", views.not_found),  # unknown paths and malformed ids: JSON 404
]
