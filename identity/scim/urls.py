"""SCIM 2.0 at /scim/v2/ on tenant hosts (smarter/urls/tenant.py); its tokens are managed on the
console's page /console/security/scim/ (console/views/scim.py)."""

from django.urls import path, re_path

from . import views

app_name = "scim"

urlpatterns = [
    path("Users/.search", views.UserSearchView.as_view(), name="users-search"),
    path("Users", views.UsersView.as_view(), name="users"),
    path("Users/<str:uuid>", views.UsersView.as_view(), name="users"),
    path("Groups", views.GroupsView.as_view(), name="groups"),
    path("Groups/<str:uuid>", views.GroupsView.as_view(), name="groups"),
    path("ServiceProviderConfig", views.ServiceProviderConfigView.as_view(),
         name="service-provider-config"),
    path("ResourceTypes", views.ResourceTypesView.as_view(), name="resource-types"),
    path("ResourceTypes/<str:uuid>", views.ResourceTypesView.as_view(), name="resource-types"),
    path("Schemas", views.SchemasView.as_view(), name="schemas"),
    path("Schemas/<str:uuid>", views.SchemasView.as_view(), name="schemas"),
    path(".search", views.RootSearchView.as_view(), name="search"),
    re_path(r"^.*$", views.UnknownView.as_view(), name="unknown"),
]
