"""Exports and closure in the account admin console (mounted at /console/)."""

from django.urls import path

from . import views

urlpatterns = [
    path("exports/", views.exports, name="exports"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
    path("exports/clone/", views.account_clone, name="account-clone"),
    path("close/", views.account_close, name="account-close"),
]
