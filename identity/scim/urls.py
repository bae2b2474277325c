"""SCIM 2.0 at /scim/v2/ on tenant hosts (smarter/urls/tenant.py); its tokens are managed on the
console's page /console/security/scim/ (console/views/scim.py)."""

from django.urls import path
from django_scim import views as scim_views

from . import views

app_name = "scim"

urlpatterns = [
    path("Users/.search", views.UserSearchView.as_view(), name="users-search"),
    path("Users", views.UsersView.as_view(), name="users"),
    path("Users/<str:uuid>", views.UsersView.as_view(), name="users"),
    path("Groups", views.GroupsView.as_view(), name="groups"),
    path("Groups/<str:uuid>", views.GroupsView.as_view(), name="groups"),
    path("ServiceProviderConfig", scim_views.ServiceProviderConfigView.as_view(),
         name="service-provider-config"),
    path("ResourceTypes", scim_views.ResourceTypesView.as_view(), name="resource-types"),
    path("ResourceTypes/<str:uuid>", scim_views.ResourceTypesView.as_view(), name="resource-types"),
    path("Schemas", scim_views.SchemasView.as_view(), name="schemas"),
    path("Schemas/<str:uuid>", scim_views.SchemasView.as_view(), name="schemas"),
]
