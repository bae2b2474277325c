"""Workspace management, mounted at /console/workspaces/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.workspace_list, name="workspaces"),
    path("<int:pk>/", views.workspace_edit, name="workspace-edit"),
    path("<int:pk>/delete/", views.workspace_delete, name="workspace-delete"),
]
