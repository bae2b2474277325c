"""Verified email domains in the console, mounted at /console/security/email-domains/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.email_domain_list, name="email-domains"),
    path("<int:pk>/verify/", views.email_domain_verify, name="email-domain-verify"),
    path("<int:pk>/delete/", views.email_domain_delete, name="email-domain-delete"),
]
