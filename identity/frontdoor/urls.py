"""The front door's pages beside allauth's own (sign-in and sign-out are allauth's, with the
tenant rules of ``frontdoor.adapter``; /login/ stays)."""

from allauth.account import views as allauth_views
from django.urls import include, path, re_path

from identity.sso import linking as sso_linking

from . import views

urlpatterns = [
    path("login/", allauth_views.login, name="login"),
    path("logout/", allauth_views.logout, name="logout"),
    path("accounts/signup/", views.PlatformSignupView.as_view(), name="account_signup"),
    path("accounts/handoff/<str:token>/", views.handoff, name="account-handoff"),
    path("accounts/choose/", views.choose, name="account-chooser"),
    path("accounts/switch/", views.switch, name="account-switch"),
    path("accounts/find/", views.find_accounts, name="find-accounts"),
    path("accounts/find/sent/", views.find_accounts_sent, name="find-accounts-sent"),
    re_path(r"^accounts/confirm-email/(?P<key>[-:\w]+)/$", views.confirm_email,
            name="account_confirm_email"),
    path("accounts/sso/link/", sso_linking.confirm_link, name="sso-link"),
    path("accounts/", include("allauth.urls")),
    path("invitations/<str:token>/", views.accept, name="invitation-accept"),
]
