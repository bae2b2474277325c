"""Single sign-on in the console, mounted at /console/security/sso/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.sso_overview, name="sso"),
    path("add/oidc/", views.add_oidc, name="sso-add-oidc"),
    path("add/saml/", views.add_saml, name="sso-add-saml"),
    path("<int:pk>/enable/", views.provider_enable, name="sso-provider-enable"),
    path("<int:pk>/delete/", views.provider_delete, name="sso-provider-delete"),
]
