"""The console's sidebar: its pages grouped by job, and which one a request is on.

A page belongs to the sidebar entry whose ``url_name`` or ``also`` names the request's URL
(a confirmation page marks the list it came from). Sign-in rules (single sign-on, SCIM) are
``SECURITY.children``: listed under Security, which stays marked while one of them is open.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Entry:
    """One link of the sidebar."""

    label: str
    url_name: str
    also: tuple[str, ...] = ()
    children: list[Entry] = field(default_factory=list)

    def covers(self, url_name: str | None) -> bool:
        return (url_name == self.url_name or url_name in self.also
                or any(child.covers(url_name) for child in self.children))


@dataclass
class Group:
    """A heading of the sidebar and its links."""

    label: str
    entries: list[Entry] = field(default_factory=list)


OVERVIEW = Entry("Overview", "console")
PEOPLE = Group("People", [
    Entry("Members", "members", ("member", "member-role", "member-active", "member-remove")),
    Entry("Invitations", "invitations", ("invitation-resend", "invitation-revoke")),
])
SECURITY = Entry("Security", "security", children=[
    Entry("Single sign-on", "sso", ("sso-add-oidc", "sso-add-saml", "sso-provider-enable",
                                    "sso-provider-delete")),
    Entry("Email domains", "email-domains", ("email-domain-verify", "email-domain-delete")),
    Entry("SCIM provisioning", "scim-tokens", ("scim-token-revoke",)),
])
SETTINGS = Group("Settings", [
    Entry("Account", "account-details"),
    Entry("Contacts", "contacts", ("contact-primary", "contact-delete")),
    Entry("Workspaces", "workspaces", ("workspace-edit", "workspace-delete")),
    Entry("Domains", "domains", ("domain-verify", "domain-workspace", "domain-canonical",
                                 "domain-delete")),
    SECURITY,
    Entry("API keys", "api-keys", ("api-key-revoke",)),
])
DATA = Group("Data", [
    Entry("Audit log", "audit-log"),
    Entry("Export", "exports", ("export-download", "account-clone")),
])
GROUPS: list[Group] = [PEOPLE, SETTINGS, DATA]
DANGER = Entry("Close account", "account-close")


def _item(entry: Entry, url_name: str | None) -> dict[str, Any]:
    return {"entry": entry, "current": url_name == entry.url_name or url_name in entry.also,
            "open": entry.covers(url_name),
            "children": [_item(child, url_name) for child in entry.children]}


def sidebar(url_name: str | None) -> dict[str, Any]:
    """The sidebar's groups; each entry says whether it is the current page (``current``) or
    holds it (``open``: a child page of Security is open)."""
    return {
        "overview": _item(OVERVIEW, url_name),
        "groups": [(g.label, [_item(e, url_name) for e in g.entries]) for g in GROUPS],
        "danger": _item(DANGER, url_name),
    }
