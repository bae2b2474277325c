"""Patterns served on every host kind, and the error handlers."""

from allauth.account import views as allauth_views
from django.contrib import admin
from django.urls import include, path, re_path

from accounts import views_auth, views_invitations
from operations import views as operations_views
from smarter import views
from workspaces.views import home

handler400 = views.bad_request
handler403 = views.permission_denied
handler404 = views.page_not_found
handler500 = views.server_error

urlpatterns = [
    path("", home, name="home"),
    path("healthz", operations_views.healthz, name="healthz"),
    path("metrics", operations_views.metrics, name="metrics"),
    path("ops/", include("operations.urls")),
    # Sign-in and sign-out are allauth's (tenant rules in accounts.adapter); /login/ stays.
    path("login/", allauth_views.login, name="login"),
    path("logout/", allauth_views.logout, name="logout"),
    path("accounts/signup/", views_auth.PlatformSignupView.as_view(), name="account_signup"),
    path("accounts/handoff/<str:token>/", views_auth.handoff, name="account-handoff"),
    path("accounts/find/", views_auth.find_accounts, name="find-accounts"),
    path("accounts/find/sent/", views_auth.find_accounts_sent, name="find-accounts-sent"),
    re_path(r"^accounts/confirm-email/(?P<key>[-:\w]+)/$", views_auth.confirm_email,
            name="account_confirm_email"),
    path("accounts/", include("allauth.urls")),
    path("invitations/<str:token>/", views_invitations.accept, name="invitation-accept"),
    path("console/", include("accounts.urls")),
    path("console/workspaces/", include("workspaces.urls")),
    path("console/domains/", include("domains.urls")),
    path("console/audit/", include("audit.urls")),
    path("console/security/sso/", include("sso.urls")),
    path("console/security/email-domains/", include("emaildomains.urls")),
    path("console/", include("lifecycle.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("api.urls")),
]
