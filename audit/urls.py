"""The audit log in the account admin console, mounted at /console/audit/."""

from django.urls import path

from . import views

urlpatterns = [path("", views.audit_log, name="audit-log")]
