"""/accounts/profile/ (mounted before the front door's allauth URLs)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.profile, name="profile"),
    path("sessions/sign-out-others/", views.end_other_sessions, name="profile-end-other-sessions"),
]
