"""Audit events told as sentences for people ("alice invited bob@x.test as member").

The log stores generic rows (``action`` on a ``target_kind``, changes ``field -> [old, new]``);
this module words a page of them: who (a person, an API key, an operator's command, the
platform), did what, to whom. Members are stored by user id, so :func:`describe` resolves
the ids of a whole page in one query. An event no rule knows still reads as a sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model

from .models import AuditEvent

#: Friendly names of the kinds the log records (the console's "kind" filter lists them).
KINDS: dict[str, str] = {
    "accounts.account": "Account",
    "accounts.userprofile": "Member",
    "accounts.invitation": "Invitation",
    "accounts.accountcontact": "Contact",
    "accounts.apikey": "API key",
    "workspaces.workspace": "Workspace",
    "domains.domain": "Domain",
    "lifecycle.dataexport": "Data export",
    "auth.user": "User",
    "scim.scimtoken": "SCIM token",
    "scim.scimuser": "Provisioned member",
    "sso.identityprovider": "Identity provider",
    "emaildomains.emaildomain": "Email domain",
}
#: What the console's "action" filter offers, worded.
ACTIONS: dict[str, str] = {
    "created": "Created",
    "updated": "Changed",
    "deleted": "Deleted",
    "closed": "Account closed",
    "restored": "Account restored",
    "export.requested": "Export requested",
    "export.downloaded": "Export downloaded",
    "account.clone_requested": "Copy requested",
    "account.cloned": "Copy made",
    "account.clone_failed": "Copy failed",
    "user.password_reset": "Password reset",
    "account.purged": "Account purged",
    "account.imported": "Account imported",
    "sso.signed_in": "Signed in with single sign-on",
    "sso.identity_linked": "Single sign-on linked",
    "sso.refused": "Single sign-on refused",
    "sso.provider_tested": "Identity provider test sign-in",
    "sso.role_changed": "Role set by single sign-on",
    "sso.role_kept": "Role kept despite single sign-on",
}
FIELD_NAMES = {
    "user_id": "user", "account_id": "account", "user_profile_id": "owner",
    "workspace_id": "workspace", "invited_by_id": "invited by", "accepted_by_id": "accepted by",
    "requested_by_id": "requested by", "is_active": "active", "is_public": "public",
    "is_primary": "primary", "is_canonical": "canonical", "require_mfa": "two-factor required",
    "address1": "address", "address2": "address (second line)",
}


@dataclass
class Told:
    """One event as the console shows it."""

    event: AuditEvent
    sentence: str
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # field, before, after


def actor_phrase(event: AuditEvent) -> str:
    """Who acted, as the subject of a sentence."""
    if event.actor_api_key_prefix:
        return f"{event.actor_username or 'someone'}'s API key {event.actor_api_key_prefix}…"
    if event.actor_username:
        return event.actor_username
    if event.source == "command":
        return f"The operator's command {event.source_label}".strip()
    if event.source == "task":
        return "A background task"
    if event.source == "scim":
        return f"The identity provider ({event.source_label or 'SCIM'})"
    if event.source == "sso":
        return "Single sign-on"
    return "The platform"


def _value(value: Any) -> str:
    if value is None or value == "":
        return "–"
    if value is True:
        return "yes"
    if value is False:
        return "no"
    return str(value)


HIDDEN_FIELDS = {"account_id", "version"}  # the same for every event of the account


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == {} or value == []


def _changes(event: AuditEvent) -> list[tuple[str, str, str]]:
    """The event's changes worth reading: not the account's id, not empty on both sides."""
    rows = []
    for name, change in (event.changes or {}).items():
        if name in HIDDEN_FIELDS or (isinstance(change, list | tuple) and len(change) == 2
                                     and all(_empty(v) for v in change)):
            continue
        label = FIELD_NAMES.get(name, name.replace("_", " "))
        if isinstance(change, list | tuple) and len(change) == 2:
            rows.append((label, _value(change[0]), _value(change[1])))
        elif isinstance(change, dict):
            rows.append((label, "", ", ".join(f"{_value(v)} {k}" for k, v in change.items())))
        else:
            rows.append((label, "", _value(change)))
    return rows


def _new(event: AuditEvent, name: str) -> Any:
    change = (event.changes or {}).get(name)
    return change[1] if isinstance(change, list | tuple) and len(change) == 2 else None


def _old(event: AuditEvent, name: str) -> Any:
    change = (event.changes or {}).get(name)
    return change[0] if isinstance(change, list | tuple) and len(change) == 2 else None


def _changed(event: AuditEvent, name: str) -> bool:
    return name in (event.changes or {})


def _profile_user_id(event: AuditEvent) -> int | None:
    """The user of a membership event: from its changes, else its ``user_id@account_id``."""
    user_id = _new(event, "user_id") or _old(event, "user_id")
    if user_id is None:
        head = event.target_repr.split("@", 1)[0]
        user_id = int(head) if head.isdigit() else None
    return int(user_id) if user_id is not None else None


def _invitation_email(event: AuditEvent) -> str:
    email = _new(event, "email") or _old(event, "email")
    return str(email or event.target_repr.split(" → ", 1)[0])


def _fields(event: AuditEvent) -> str:
    names = [FIELD_NAMES.get(n, n.replace("_", " ")) for n in (event.changes or {}) if n != "cascade"]
    return ", ".join(names[:4]) + (" and more" if len(names) > 4 else "")


Rule = Callable[[AuditEvent, str, dict[int, str]], str]


def _member(e: AuditEvent, who: str, users: dict[int, str]) -> str:
    user_id = _profile_user_id(e)
    name = users.get(user_id or 0, f"user #{user_id}" if user_id else "someone")
    if e.action == "created":
        role = _new(e, "role") or "member"
        if e.actor_user_id is not None and e.actor_user_id == user_id:
            return f"{name} joined as {role}"
        if e.actor_user_id is None and e.source == "web":  # accepting an invitation, signing up
            return f"{name} joined as {role}"
        if e.actor_user_id is None and e.source == "sso":
            return f"{name} joined as {role} through single sign-on"
        return f"{who} added {name} as {role}"
    if e.action == "deleted":
        return f"{who} removed {name} from the account"
    if _changed(e, "role"):
        return f"{who} changed {name}'s role from {_old(e, 'role')} to {_new(e, 'role')}"
    if _changed(e, "is_active"):
        return f"{who} {'reactivated' if _new(e, 'is_active') else 'deactivated'} {name}"
    return f"{who} changed {name}'s membership ({_fields(e)})"


def _invitation(e: AuditEvent, who: str, users: dict[int, str]) -> str:
    email = _invitation_email(e)
    if e.action == "created":
        return f"{who} invited {email} as {_new(e, 'role') or 'member'}"
    if e.action == "deleted":
        return f"{who} deleted the invitation of {email}"
    if _new(e, "accepted_at"):
        return f"{email} accepted the invitation"
    if _new(e, "revoked_at"):
        return f"{who} revoked the invitation of {email}"
    if _changed(e, "sent_at"):
        return f"{who} sent the invitation to {email} again"
    return f"{who} changed the invitation of {email} ({_fields(e)})"


def _by_name(thing: str, renamed: str = "name") -> Rule:
    """Workspaces, domains, contacts, keys: created, renamed, deleted, changed."""

    def tell(e: AuditEvent, who: str, users: dict[int, str]) -> str:
        name = e.target_repr or f"#{e.target_id}"
        if e.action == "created":
            return f"{who} created the {thing} {name}"
        if e.action == "deleted":
            return f"{who} deleted the {thing} {name}"
        if _changed(e, renamed) and _old(e, renamed):
            return f"{who} renamed the {thing} {_old(e, renamed)} to {_new(e, renamed)}"
        return f"{who} changed the {thing} {name} ({_fields(e)})"

    return tell


def _api_key(e: AuditEvent, who: str, users: dict[int, str]) -> str:
    if e.action == "updated" and _changed(e, "is_active") and not _new(e, "is_active"):
        return f"{who} revoked the API key {e.target_repr}"
    return _by_name("API key")(e, who, users)


def _revocable(thing: str) -> Rule:
    """Secrets shown once (SCIM tokens): created, revoked, deleted."""
    by_name = _by_name(thing)

    def tell(e: AuditEvent, who: str, users: dict[int, str]) -> str:
        if e.action == "updated" and _new(e, "revoked_at"):
            return f"{who} revoked the {thing} {e.target_repr}"
        return by_name(e, who, users)

    return tell


def _identity_provider(e: AuditEvent, who: str, users: dict[int, str]) -> str:
    if e.action == "updated" and _changed(e, "enabled") and len(e.changes) == 1:
        verb = "turned on" if _new(e, "enabled") else "turned off"
        return f"{who} {verb} single sign-on with {e.target_repr}"
    return _by_name("identity provider")(e, who, users)


def _email_domain(e: AuditEvent, who: str, users: dict[int, str]) -> str:
    name = e.target_repr
    if e.action == "created":
        return f"{who} added the email domain {name}"
    if e.action == "deleted":
        return f"{who} removed the email domain {name}"
    if _new(e, "verified_at"):
        return f"The email domain {name} was verified"
    if _changed(e, "verified_at"):
        return f"The email domain {name} is no longer verified"
    return f"{who} changed the email domain {name} ({_fields(e)})"


def _provisioned(e: AuditEvent, who: str, users: dict[int, str]) -> str:
    name = e.target_repr or f"#{e.target_id}"
    if e.action == "created":
        return f"{who} provisioned {name}"
    if e.action == "deleted":
        return f"{who} stopped provisioning {name}"
    return f"{who} updated the provisioned member {name} ({_fields(e)})"


def _contact(e: AuditEvent, who: str, users: dict[int, str]) -> str:
    email = _new(e, "email") or _old(e, "email") or e.target_repr.split(" (", 1)[0]
    if e.action == "created":
        return f"{who} added {email} as a contact"
    if e.action == "deleted":
        return f"{who} removed the contact {email}"
    if _new(e, "is_primary"):
        return f"{who} made {email} the primary contact"
    return f"{who} changed the contact {email} ({_fields(e)})"


def _domain(e: AuditEvent, who: str, users: dict[int, str]) -> str:
    name = e.target_repr
    status = _new(e, "status")
    if e.action == "created":
        return f"{who} added the domain {name}"
    if e.action == "deleted":
        return f"{who} removed the domain {name}"
    if status == "verified":
        return f"The domain {name} was verified"
    if status == "suspended":
        return f"The domain {name} was suspended: its DNS record is missing"
    if _changed(e, "is_canonical"):
        return (f"{who} made {name} the canonical domain" if _new(e, "is_canonical")
                else f"{who} stopped redirecting to {name}")
    if _changed(e, "workspace_id"):
        return f"{who} changed the workspace {name} serves"
    return f"{who} changed the domain {name} ({_fields(e)})"


def _account(e: AuditEvent, who: str, users: dict[int, str]) -> str:
    if e.action == "closed":
        return f"{who} closed the account"
    if e.action == "restored":
        return f"{who} restored the account"
    if e.action == "created":
        return f"{who} created the account"
    if e.action == "deleted":
        return f"{who} deleted the account {e.target_repr}"
    if _changed(e, "require_mfa") and len(e.changes) == 1:
        return (f"{who} required two-factor authentication of every member"
                if _new(e, "require_mfa") else f"{who} stopped requiring two-factor authentication")
    return f"{who} changed the account details ({_fields(e)})"


KIND_RULES: dict[str, Rule] = {
    "accounts.userprofile": _member,
    "accounts.invitation": _invitation,
    "accounts.apikey": _api_key,
    "accounts.accountcontact": _contact,
    "workspaces.workspace": _by_name("workspace"),
    "domains.domain": _domain,
    "accounts.account": _account,
    "scim.scimtoken": _revocable("SCIM token"),
    "scim.scimuser": _provisioned,
    "sso.identityprovider": _identity_provider,
    "emaildomains.emaildomain": _email_domain,
}
ACTION_SENTENCES: dict[str, str] = {
    "export.requested": "{who} requested a data export",
    "export.downloaded": "{who} downloaded the data export",
    "account.clone_requested": "{who} asked for a copy of the account",
    "account.cloned": "{who} copied the account as {repr}",
    "account.clone_failed": "Copying the account failed",
    "account.purged": "{who} purged the account {repr}",
    "account.imported": "{who} imported the account {repr}",
    "user.password_reset": "{who} reset the password of {repr}",
    "sso.signed_in": "{repr} signed in with single sign-on",
    "sso.identity_linked": "{repr}'s sign-in was linked to the account's identity provider",
    "sso.refused": "A single sign-on was refused: {repr}",
    "sso.provider_tested": "{who} ran a test sign-in through the identity provider {repr}",
    "sso.role_changed": "{repr}'s role was set by the identity provider's groups",
    "sso.role_kept": "{repr}'s role was kept: the change the identity provider's groups asked "
                     "for would leave the account without an active admin",
}


def sentence(event: AuditEvent, users: dict[int, str]) -> str:
    """``event`` as one sentence; ``users`` maps the user ids of membership events to names."""
    who = actor_phrase(event)
    template = ACTION_SENTENCES.get(event.action)
    if template is not None:
        return template.format(who=who, repr=event.target_repr)
    rule = KIND_RULES.get(event.target_kind)
    if rule is not None:
        return rule(event, who, users)
    kind = KINDS.get(event.target_kind, "record").lower()
    return f"{who}: {ACTIONS.get(event.action, 'changed').lower()} {kind} {event.target_repr}".strip()


def _user_names(events: Sequence[AuditEvent]) -> dict[int, str]:
    ids = {uid for e in events if e.target_kind == "accounts.userprofile"
           for uid in [_profile_user_id(e)] if uid is not None}
    if not ids:
        return {}
    users = get_user_model().objects.filter(pk__in=sorted(ids))
    return {pk: name for pk, name in users.values_list("pk", "username")}


def describe(events: Iterable[AuditEvent]) -> list[Told]:
    """A page of events as sentences (one query for the members they name, whatever their
    number), each with its changes for the folded details."""
    events = list(events)
    users = _user_names(events)
    return [Told(e, sentence(e, users), _changes(e)) for e in events]
