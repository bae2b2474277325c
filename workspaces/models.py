"""A Workspace is an owned resource whose name is its host label."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

import tenancy
from accounts.models import MetaDataWithOwnershipModel
from tenancy.cache import invalidate_with_commit
from tenancy.hosts import is_workspace_label

from .cache_keys import workspace_names_key


def validate_workspace_name(value: str) -> None:
    """A workspace name must be a lower-case DNS label that is not reserved."""
    if not is_workspace_label(value):
        raise ValidationError(
            "Use 1-63 lower-case letters, digits or hyphens (not at either end); "
            "reserved names such as www, api and admin are not allowed.",
            code="invalid_workspace_name",
        )


class Workspace(MetaDataWithOwnershipModel):
    """A workspace of an account, served at ``NAME.ACCOUNT.ENV.api.ROOT``."""

    name = models.CharField(
        "Name", max_length=63, validators=[validate_workspace_name],
        help_text="Also the start of the workspace's web address: lower-case letters, digits "
        "and hyphens, e.g. design-team.",
    )
    is_public = models.BooleanField(
        "Public", default=False,
        help_text="Anyone with the link can see a public workspace, signed in or not; a private "
        "one only the account's members.",
    )

    class Meta(MetaDataWithOwnershipModel.Meta):
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "name"], name="workspaces_unique_name_per_account",
                violation_error_message="This account already has a workspace of that name.",
            ),
            # the target of (account_id, workspace_id) foreign keys (custom domains): a row
            # can only name a workspace of its own account, and the key carries account_id
            models.UniqueConstraint(fields=["account", "id"], name="workspaces_workspace_account_id"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        validate_workspace_name(self.name)
        super().save(*args, **kwargs)

    @classmethod
    def portable_imported(cls, account_id: int) -> None:
        """Workspaces were imported into the account: its names resolve now (the per-process
        misses of unknown names hang on this one key)."""
        invalidate_with_commit(workspace_names_key(account_id))


tenancy.register(Workspace, audit=True, permission_owner_field="user_profile",
                 portability=tenancy.Portability(imported=Workspace.portable_imported))
