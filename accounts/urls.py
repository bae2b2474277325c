"""The account admin console, mounted at /console/ on every tenant host."""

from django.urls import path

from . import views, views_api_keys, views_invitations

urlpatterns = [
    path("", views.console, name="console"),
    path("account/", views.account_details, name="account-details"),
    path("members/", views.members, name="members"),
    path("members/<int:pk>/role/", views.member_role, name="member-role"),
    path("members/<int:pk>/active/", views.member_active, name="member-active"),
    path("members/<int:pk>/remove/", views.member_remove, name="member-remove"),
    path("invitations/", views_invitations.invitations, name="invitations"),
    path("invitations/<int:pk>/resend/", views_invitations.invitation_resend, name="invitation-resend"),
    path("invitations/<int:pk>/revoke/", views_invitations.invitation_revoke, name="invitation-revoke"),
    path("contacts/", views.contacts, name="contacts"),
    path("contacts/<int:pk>/primary/", views.contact_primary, name="contact-primary"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact-delete"),
    path("api-keys/", views_api_keys.api_keys, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", views_api_keys.api_key_revoke, name="api-key-revoke"),
]
