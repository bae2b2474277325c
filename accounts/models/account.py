"""The tenant: an Account with an immutable ``NNNN-NNNN-NNNN`` number."""

from __future__ import annotations

import re
import secrets

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.db.models.functions import Length

import tenancy
from tenancy.validators import validate_single_line

from ..validators import validate_currency, validate_language, validate_phone_number, validate_timezone

ACCOUNT_NUMBER_PATTERN = r"^[0-9]{4}-[0-9]{4}-[0-9]{4}$"
_ACCOUNT_NUMBER_RE = re.compile(r"[0-9]{4}-[0-9]{4}-[0-9]{4}")
models.CharField.register_lookup(Length)


def generate_account_number() -> str:
    """A random account number from the OS's CSPRNG."""
    return "-".join(f"{secrets.randbelow(10_000):04d}" for _ in range(3))


def validate_account_number(value: str) -> None:
    """Reject anything but exactly ``NNNN-NNNN-NNNN`` in ASCII digits (no trailing newline)."""
    if not isinstance(value, str) or not _ACCOUNT_NUMBER_RE.fullmatch(value):
        raise ValidationError(
            "Account number must be NNNN-NNNN-NNNN (ASCII digits).", code="invalid"
        )


class Account(models.Model):
    """A tenant. Exactly one account is the platform's default (database-enforced)."""

    account_number = models.CharField(
        "Account number", max_length=14, unique=True, editable=False,
        validators=[validate_account_number],
        help_text="Your account's permanent number. It is part of your account's web address.",
    )
    is_default_account = models.BooleanField(
        "Platform's default account", default=False,
        help_text="The account the platform's own address shows. There is exactly one.",
    )
    is_active = models.BooleanField(
        "Active", default=True,
        help_text="An inactive account's pages and API keys stop working at once.",
    )
    company_name = models.CharField(
        "Company name", max_length=255, validators=[validate_single_line],
        help_text="Shown at the top of every page and in the emails members get.",
    )
    phone_number = models.CharField("Phone number", max_length=32, blank=True, default="",
                                    validators=[validate_phone_number])
    address1 = models.CharField("Address", max_length=255, blank=True, default="",
                                validators=[validate_single_line])
    address2 = models.CharField("Address (second line)", max_length=255, blank=True, default="",
                                validators=[validate_single_line])
    city = models.CharField("City", max_length=255, blank=True, default="", validators=[validate_single_line])
    state = models.CharField("State or region", max_length=255, blank=True, default="",
                             validators=[validate_single_line])
    postal_code = models.CharField("Postal code", max_length=20, blank=True, default="",
                                   validators=[validate_single_line])
    country = models.CharField("Country", max_length=255, blank=True, default="",
                               validators=[validate_single_line])
    language = models.CharField("Language", max_length=16, default="en-US", validators=[validate_language],
                                help_text="Your company's main language.")
    timezone = models.CharField("Time zone", max_length=64, default="UTC", validators=[validate_timezone],
                                help_text="Where your company's day starts and ends.")
    currency = models.CharField("Currency", max_length=3, default="USD", validators=[validate_currency],
                                help_text="The currency your company works in.")
    require_mfa = models.BooleanField(
        "Require two-factor authentication", default=False,
        help_text="Everyone must set up an authenticator app on their phone before they can use "
        "this account.",
    )
    # Single sign-on (sso/): members sign in only through the account's identity providers;
    # account admins keep password + two-factor (break-glass). SSO sessions end after max age.
    require_sso = models.BooleanField("Require single sign-on", default=False)
    sso_session_max_age = models.PositiveIntegerField(
        "SSO session max age (seconds)", default=12 * 3600,
        validators=[MinValueValidator(300), MaxValueValidator(30 * 24 * 3600)],
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(
        "Closed at", null=True, blank=True, editable=False,
        help_text="When an admin closed the account. Its data is deleted for good after the "
        "retention period (30 days unless the platform says otherwise) unless a platform "
        "admin restores it first.",
    )

    class Meta:
        ordering = ["account_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default_account"],
                condition=Q(is_default_account=True),
                name="accounts_account_single_default",
                violation_error_message="There is already a default account.",
            ),
            models.CheckConstraint(
                condition=Q(account_number__regex=ACCOUNT_NUMBER_PATTERN)
                & Q(account_number__length=14),
                name="accounts_account_number_format",
            ),
            models.CheckConstraint(  # what mails put in their headers: one line
                condition=Q(company_name__regex=r"^[^\x01-\x1f\x7f]*$"),
                name="accounts_account_company_name_single_line",
            ),
            models.CheckConstraint(  # the shapes of the lists' entries (accounts.validators)
                condition=Q(currency__regex=r"^[A-Z]{3}$")
                & Q(language__regex=r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
                & Q(timezone__regex=r"^[A-Za-z0-9_+/-]+$"),
                name="accounts_account_locale_shape",
            ),
            models.CheckConstraint(
                condition=Q(is_default_account=False) | Q(closed_at__isnull=True),
                name="accounts_account_default_never_closed",
                violation_error_message="The default account can never be closed.",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(is_active=False),
                name="accounts_account_closed_is_inactive",
                violation_error_message="A closed account is inactive; restore it instead.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.account_number})"

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        """Generate the number on first save; refuse to change it afterwards."""
        original = getattr(self, "_original_account_number", None)
        if not self._state.adding and original and original != self.account_number:
            raise ValidationError("account_number is immutable.", code="immutable")
        if self.account_number:
            validate_account_number(self.account_number)
            super().save(*args, **kwargs)
        else:
            self._save_with_new_number(*args, **kwargs)
        self._original_account_number = self.account_number

    def clean(self) -> None:
        """Forms (the admin) get the constraints' messages instead of a database error."""
        if self.closed_at is not None and self.is_active:
            raise ValidationError("A closed account is inactive; restore it instead.")
        if self.closed_at is not None and self.is_default_account:
            raise ValidationError("The default account can never be closed.")

    @classmethod
    def from_db(cls, db, field_names, values):  # type: ignore[no-untyped-def]
        instance = super().from_db(db, field_names, values)
        instance._original_account_number = instance.__dict__.get("account_number")
        return instance

    def _save_with_new_number(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        for _ in range(8):
            self.account_number = generate_account_number()
            try:
                with transaction.atomic():
                    super().save(*args, **kwargs)
                return
            except IntegrityError:
                if type(self).objects.filter(account_number=self.account_number).exists():
                    self.account_number = ""
                    continue  # number collision: draw again
                self.account_number = ""
                raise
        raise IntegrityError("could not draw an unused account number")


tenancy.register(Account, audit=True)
