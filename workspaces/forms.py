"""Create and rename workspaces from the console."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import Workspace


class WorkspaceForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ["name", "description", "is_public"]

    def __init__(self, *args: Any, account_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.account_id = account_id

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip().lower()
        clash = Workspace.objects.filter(account_id=self.account_id, name=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("This account already has a workspace of that name.")
        return name
