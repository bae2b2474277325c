"""SCIM 2.0 at /scim/v2/ on tenant hosts (smarter/urls/tenant.py), and the console's token page
at /console/security/scim/ (``console_patterns``, mounted in smarter/urls/common.py)."""

from django.urls import path, re_path
from django_scim import views as scim_views

from . import views

app_name = "scim"

urlpatterns = [
    re_path(r"^Users/\.search$", scim_views.UserSearchView.as_view(), name="users-search"),
    re_path(r"^Users(?:/(?P<uuid>[^/]+))?$", scim_views.UsersView.as_view(), name="users"),
    re_path(r"^Groups(?:/(?P<uuid>[^/]+))?$", views.GroupsView.as_view(), name="groups"),
    re_path(r"^ServiceProviderConfig$", scim_views.ServiceProviderConfigView.as_view(),
            name="service-provider-config"),
    re_path(r"^ResourceTypes(?:/(?P<uuid>[^/]+))?$", scim_views.ResourceTypesView.as_view(),
            name="resource-types"),
    re_path(r"^Schemas(?:/(?P<uuid>[^/]+))?$", scim_views.SchemasView.as_view(), name="schemas"),
]

console_patterns = ([
    path("", views.tokens, name="tokens"),
    path("<int:pk>/revoke/", views.token_revoke, name="token-revoke"),
], "scim-console")
