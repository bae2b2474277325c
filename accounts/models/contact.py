"""People to reach at an account; at most one primary, enforced by the database."""

from __future__ import annotations

from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower

import tenancy
from tenancy.validators import validate_single_line
from tenancy.wall_scoping import TenantWallManager

from ..validators import validate_phone_number
from .account import Account


class AccountContact(models.Model):
    """A contact of an account. Emails are unique per account, case-insensitively."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    first_name = models.CharField("First name", max_length=255, blank=True, default="",
                                  validators=[validate_single_line])
    last_name = models.CharField("Last name", max_length=255, blank=True, default="",
                                 validators=[validate_single_line])
    email = models.EmailField("Email address", help_text="Where we write to this contact.")
    phone = models.CharField("Phone number", max_length=32, blank=True, default="",
                             validators=[validate_phone_number])
    is_primary = models.BooleanField(
        "Primary contact", default=False,
        help_text="The person we contact first about this account. There is one at most.",
    )
    welcomed = models.BooleanField("Welcome email sent", default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantWallManager()  # the database wall's contract on SQLite too

    class Meta:
        ordering = ["-is_primary", "email"]
        # the console's page of contacts, in this order, for one account
        indexes = [models.Index(fields=["account", "-is_primary", "email"], name="accounts_contact_page")]
        constraints = [
            models.UniqueConstraint(
                F("account"), Lower("email"), name="accounts_contact_unique_email",
                violation_error_message="This email is already a contact of the account.",
            ),
            models.UniqueConstraint(
                fields=["account"], condition=Q(is_primary=True),
                name="accounts_contact_single_primary",
                violation_error_message="The account already has a primary contact.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.account.account_number})"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    @staticmethod
    def lock_account(account_id: int) -> None:
        """Serialise changes to an account's contacts until the transaction ends.

        Locks the account row, not the contacts: an account may have none yet, and two
        "first" contacts must not both become primary.
        """
        accounts = Account.objects.select_for_update(no_key=True).filter(pk=account_id)
        list(accounts.values_list("pk"))

    def claim_primary_if_vacant(self) -> bool:
        """Become the primary contact unless the account has one; True if this one now is.

        Race-safe: two concurrent claimants both try, the partial unique index lets one
        win, and the loser stays a plain contact instead of failing.
        """
        if self.is_primary:
            return True
        if AccountContact.objects.filter(account_id=self.account_id, is_primary=True).exists():
            return False
        try:
            with transaction.atomic():
                AccountContact.objects.filter(pk=self.pk).update(is_primary=True)
        except IntegrityError:
            return False
        self.is_primary = True
        return True


tenancy.register(AccountContact, audit=True)
