"""Issue 24 item 7: the help texts and labels people read are written for them, not for
developers: every model of the project's apps and every form of its pages is checked."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.apps import apps

PROJECT_APPS = {"accounts", "workspaces", "domains", "audit", "lifecycle", "routerdomains", "tenancy"}
# Words of developers' jargon that have no place in text shown to people.
JARGON = re.compile(r"camelcase|verbose|app_label|->|\boauth\b|\burl to\b|\bhost label\b|"
                    r"\bsemantic version\b|key-value|\bresource\b|[A-Z]{3,}_[A-Z_]+", re.I)


def _model_texts() -> list[tuple[str, str]]:
    out = []
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS:
            continue
        for field in model._meta.get_fields():
            for text in (getattr(field, "help_text", ""), getattr(field, "verbose_name", "")):
                if text:
                    out.append((f"{model._meta.label}.{field.name}", str(text)))
    return out


def _form_texts() -> list[tuple[str, str]]:
    from console import forms as console_forms
    from domains import forms as domain_forms
    from identity.profiles import forms as profile_forms
    from lifecycle import forms as lifecycle_forms
    from workspaces import forms as workspace_forms

    out = []
    for module in (console_forms, domain_forms, lifecycle_forms, profile_forms, workspace_forms):
        for name in dir(module):
            cls = getattr(module, name)
            ours = isinstance(cls, type) and cls.__module__ == module.__name__
            if ours and issubclass(cls, forms.BaseForm):
                for fname, field in cls.base_fields.items():
                    for text in (field.help_text, field.label):
                        if text:
                            out.append((f"{cls.__name__}.{fname}", str(text)))
    return out


def test_the_seeds_developer_texts_are_gone() -> None:
    texts = [t for _, t in _model_texts()]
    assert not any("camelCase" in t or "not too verbose" in t for t in texts)
    assert len(texts) > 60


@pytest.mark.parametrize("source", ["models", "forms"])
def test_no_jargon_in_what_people_read(source: str) -> None:
    texts = _model_texts() if source == "models" else _form_texts()
    bad = [f"{where}: {text}" for where, text in texts if JARGON.search(text)]
    assert bad == []


def test_field_names_stay() -> None:
    from tenancy.models import MetaDataModel

    names = {f.name for f in MetaDataModel._meta.get_fields()}
    assert {"name", "description", "version", "annotations", "tags"} <= names
