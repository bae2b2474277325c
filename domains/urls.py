"""Custom domains in the console, mounted at /console/domains/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.domain_list, name="domains"),
    path("<int:pk>/verify/", views.domain_verify, name="domain-verify"),
    path("<int:pk>/workspace/", views.domain_workspace, name="domain-workspace"),
    path("<int:pk>/canonical/", views.domain_canonical, name="domain-canonical"),
    path("<int:pk>/delete/", views.domain_delete, name="domain-delete"),
]
