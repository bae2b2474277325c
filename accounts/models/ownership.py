"""The abstract base for every tenant-owned resource."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from tenancy.models import MetaDataModel

from .account import Account
from .user_profile import SmarterBaseModelManager, UserProfile


class MetaDataWithOwnershipModel(MetaDataModel):
    """A resource owned by a UserProfile, carrying its owner's ``account_id`` too.

    ``account`` is copied from the owner on every save, so scoping by tenant is one indexed
    equality and every tenant table can be distributed by ``account_id``.
    """

    user_profile = models.ForeignKey(UserProfile, on_delete=models.CASCADE)
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, editable=False, db_index=False, related_name="+"
    )

    objects = SmarterBaseModelManager()

    class Meta:
        abstract = True
        indexes = [
            models.Index(fields=["account", "user_profile"], name="%(app_label).8s_%(class).12s_ao"),
            models.Index(fields=["account", "-created_at"], name="%(app_label).8s_%(class).12s_ac"),
        ]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.user_profile_id is None:
            raise ValidationError("An owned resource needs a user_profile.")
        owner_account = (
            self.user_profile.account_id
            if self.user_profile.pk == self.user_profile_id
            else UserProfile.objects.values_list("account_id", flat=True).get(
                pk=self.user_profile_id
            )
        )
        self.account_id = owner_account
        super().save(*args, **kwargs)
