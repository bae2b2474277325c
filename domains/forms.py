"""Add a custom domain from the console."""

from __future__ import annotations

from typing import Any

from django import forms

from workspaces.models import Workspace

from .hostnames import normalize_custom_domain


class WorkspaceChoiceForm(forms.Form):
    """The workspace a domain serves: one of the account's, or none (the account's home)."""

    workspace = forms.ModelChoiceField(queryset=Workspace.objects.none(), required=False,
                                       empty_label="(the account's home page)", label="Opens",
                                       help_text="What visitors of this domain see.")

    def __init__(self, *args: Any, account_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["workspace"].queryset = (  # type: ignore[attr-defined]
            Workspace.objects.filter(account_id=account_id).order_by("name")
        )


class DomainForm(WorkspaceChoiceForm):
    hostname = forms.CharField(max_length=260, label="Domain",
                               help_text="The address people will type, e.g. app.example.com. "
                               "Next you add two DNS records where the domain is registered.")
    field_order = ["hostname", "workspace"]

    def clean_hostname(self) -> str:
        """The normalised name; whether it may be added is :func:`domains.claims.add_domain`'s."""
        return normalize_custom_domain(self.cleaned_data["hostname"])
