"""Every event the recorder can write reads as a sentence for people: no model labels
("scim.scimtoken"), no raw action names, and the right subject (a person who accepted an
invitation joined; the platform did not add them)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from audit.models import AuditEvent
from audit.sentences import ACTION_SENTENCES, ACTIONS, KIND_RULES, KINDS, sentence
from tenancy.registry import registry

ROOT = Path(__file__).resolve().parent.parent
RAW = re.compile(r"\b[a-z]+\.[a-z_]+\b")  # "scim.scimtoken", "sso.signed_in"
AUDITED = sorted(entry.model._meta.label_lower for entry in registry.values() if entry.audit)


def recorded_actions() -> set[str]:
    """The actions the project's code passes to ``record(...)`` as literals."""
    found = set()
    for path in ROOT.glob("*/**/*.py"):
        if {"tests", "bench", ".venv", "migrations"} & set(path.relative_to(ROOT).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            first = node.args[0]
            if name == "record" and isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
    return found


def event(**fields: object) -> AuditEvent:
    defaults: dict[str, object] = {"source": "console", "actor_username": "alice", "actor_user_id": 1,
                                   "target_id": "7", "target_repr": "Okta", "changes": {}}
    return AuditEvent(**{**defaults, **fields})


def test_the_scan_finds_the_recorder_s_actions():
    assert {"sso.signed_in", "export.requested", "user.password_reset"} <= recorded_actions()


@pytest.mark.parametrize("kind", AUDITED)
@pytest.mark.parametrize("action", ["created", "updated", "deleted"])
def test_every_audited_model_reads_as_a_sentence(kind, action):
    assert kind in KINDS and kind in KIND_RULES, f"{kind} has no name or sentence in audit.sentences"
    changes = {"name": ["old", "new"]} if action == "updated" else {}
    told = sentence(event(action=action, target_kind=kind, changes=changes), {})
    assert not RAW.search(told), told
    assert not told.startswith("alice:"), told  # the fallback


@pytest.mark.parametrize("action", sorted(recorded_actions()))
def test_every_recorded_action_reads_as_a_sentence(action):
    assert action in ACTIONS, f"{action} has no name for the audit filter"
    assert action in ACTION_SENTENCES, f"{action} has no sentence"
    told = sentence(event(action=action, target_kind="auth.user", target_repr="bob"), {})
    assert not RAW.search(told) and "{" not in told, told


@pytest.mark.parametrize(("source", "label", "expected"), [
    ("web", "", "erin joined as member"),
    ("sso", "", "erin joined as member through single sign-on"),
    ("scim", "SCIM token sc_ab12", "The identity provider (SCIM token sc_ab12) added erin as member"),
    ("command", "create_user", "The operator's command create_user added erin as member"),
])
def test_who_added_a_member_is_told_as_it_happened(source, label, expected):
    told = sentence(event(action="created", target_kind="accounts.userprofile", source=source,
                          source_label=label, actor_username="", actor_user_id=None,
                          changes={"user_id": [None, 5], "role": [None, "member"]}), {5: "erin"})
    assert told == expected


def test_secrets_and_providers_have_their_own_verbs():
    revoked = event(action="updated", target_kind="scim.scimtoken", target_repr="Okta",
                    changes={"revoked_at": [None, "2026-12-07T10:00:00Z"]})
    assert sentence(revoked, {}) == "alice revoked the SCIM token Okta"
    off = event(action="updated", target_kind="sso.identityprovider", changes={"enabled": [True, False]})
    assert sentence(off, {}) == "alice turned off single sign-on with Okta"
    verified = event(action="updated", target_kind="emaildomains.emaildomain", target_repr="acme.example",
                     changes={"verified_at": [None, "2026-12-07T10:00:00Z"]})
    assert sentence(verified, {}) == "The email domain acme.example was verified"
