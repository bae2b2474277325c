"""The account admin console, mounted at /console/ on every tenant host."""

from django.urls import path

from .views import (
    account,
    api_keys,
    audit,
    closure,
    contacts,
    domains,
    exports,
    invitations,
    members,
    overview,
    security,
    workspaces,
)

urlpatterns = [
    path("", overview.console, name="console"),
    path("account/", account.account_details, name="account-details"),
    path("security/", security.security, name="security"),
    path("members/", members.members, name="members"),
    path("members/<int:pk>/role/", members.member_role, name="member-role"),
    path("members/<int:pk>/active/", members.member_active, name="member-active"),
    path("members/<int:pk>/remove/", members.member_remove, name="member-remove"),
    path("invitations/", invitations.invitations, name="invitations"),
    path("invitations/<int:pk>/resend/", invitations.invitation_resend, name="invitation-resend"),
    path("invitations/<int:pk>/revoke/", invitations.invitation_revoke, name="invitation-revoke"),
    path("contacts/", contacts.contacts, name="contacts"),
    path("contacts/<int:pk>/primary/", contacts.contact_primary, name="contact-primary"),
    path("contacts/<int:pk>/delete/", contacts.contact_delete, name="contact-delete"),
    path("api-keys/", api_keys.api_keys, name="api-keys"),
    path("api-keys/<int:pk>/revoke/", api_keys.api_key_revoke, name="api-key-revoke"),
    path("workspaces/", workspaces.workspace_list, name="workspaces"),
    path("workspaces/<int:pk>/", workspaces.workspace_edit, name="workspace-edit"),
    path("workspaces/<int:pk>/delete/", workspaces.workspace_delete, name="workspace-delete"),
    path("domains/", domains.domain_list, name="domains"),
    path("domains/<int:pk>/verify/", domains.domain_verify, name="domain-verify"),
    path("domains/<int:pk>/workspace/", domains.domain_workspace, name="domain-workspace"),
    path("domains/<int:pk>/canonical/", domains.domain_canonical, name="domain-canonical"),
    path("domains/<int:pk>/delete/", domains.domain_delete, name="domain-delete"),
    path("audit/", audit.audit_log, name="audit-log"),
    path("exports/", exports.exports, name="exports"),
    path("exports/<int:pk>/download/", exports.export_download, name="export-download"),
    path("exports/clone/", exports.account_clone, name="account-clone"),
    path("close/", closure.account_close, name="account-close"),
]
