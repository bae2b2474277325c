"""UserProfile (a user's membership of an account) and the permission-scoped queryset."""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q

import tenancy
from tenancy.cache import tenant_cache
from tenancy.context import get_current_account_id, tenant_context
from tenancy.models import MetaDataModel
from tenancy.registry import options as tenant_options
from tenancy.wall_scoping import TenantWallManager, TenantWallQuerySet

from ..caching import (
    active_memberships,
    admin_key,
    get_cached_account,
    get_cached_admin_profile,
    get_cached_profile,
    get_cached_profile_by_pk,
    get_cached_smarter_admin_user_profile,
    get_cached_user_for_user_id,
    get_cached_user_for_username,
    memberships_key,
    profile_key,
    profile_pk_key,
)
from ..signals import user_profile_created
from .account import Account
from .contact import AccountContact

INVALIDATION_CHUNK = 2000  # members whose cache keys one invalidation writes and pushes

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)


def _is_live(user: Any) -> bool:
    return bool(
        user is not None
        and getattr(user, "is_authenticated", False)
        and getattr(user, "is_active", False)
    )


class SmarterBaseQuerySetWithPermissions(TenantWallQuerySet):
    """A queryset that can narrow itself to what a user may read or manage.

    The model names its owner field in the ``permission_owner_field`` of its registration
    (``tenancy.register``) and carries ``account_id``. Inside a request for a tenant
    (``tenancy.context``), results are further limited to that tenant, even for users who
    belong to several accounts.
    """

    def _owner_field(self) -> str:
        owner = tenant_options(self.model).permission_owner_field
        if owner is None:
            raise ImproperlyConfigured(f"{self.model._meta.label} has permission querysets but its "
                                       "tenancy.register(...) names no permission_owner_field")
        return owner

    @staticmethod
    def _compound_part(qs: Any) -> Any:
        """``qs`` without its implicit ``Meta.ordering``: SQLite refuses ORDER BY in the parts
        of a compound query, and that ordering is meaningless there anyway. An explicit
        ``order_by()`` or a slice is left as the caller wrote it."""
        query = qs.query
        if query.order_by or query.is_sliced or not query.default_ordering:
            return qs
        return qs.order_by()

    def union(self, *other_qs: Any, all: bool = False) -> SmarterBaseQuerySetWithPermissions:  # noqa: A002
        parts = [self._compound_part(q) for q in other_qs]
        return models.QuerySet.union(self._compound_part(self), *parts, all=all)

    def intersection(self, *other_qs: Any) -> SmarterBaseQuerySetWithPermissions:
        parts = [self._compound_part(q) for q in other_qs]
        return models.QuerySet.intersection(self._compound_part(self), *parts)

    def difference(self, *other_qs: Any) -> SmarterBaseQuerySetWithPermissions:
        parts = [self._compound_part(q) for q in other_qs]
        return models.QuerySet.difference(self._compound_part(self), *parts)

    def _tenant_scoped(self, account_ids: set[int] | None) -> set[int] | None:
        tenant = get_current_account_id()
        if tenant is None:
            return account_ids
        return {tenant} if account_ids is None else account_ids & {tenant}

    def with_read_permission_for(self, user: User | Any) -> SmarterBaseQuerySetWithPermissions:
        """Rows ``user`` may read: their accounts' rows plus the platform admin's rows."""
        if not _is_live(user):
            return self.none()
        platform = get_cached_smarter_admin_user_profile()
        platform_q = (
            Q(account_id=platform.account_id, **{self._owner_field(): platform.pk})
            if platform is not None
            else Q(pk__in=[])
        )
        if user.is_superuser:
            scope = self._tenant_scoped(None)
            return self.all() if scope is None else self.filter(Q(account_id__in=scope) | platform_q)
        accounts = self._tenant_scoped({m.account_id for m in active_memberships(user)}) or set()
        return self.filter(Q(account_id__in=sorted(accounts)) | platform_q)

    def with_ownership_permission_for(
        self, user: User | Any
    ) -> SmarterBaseQuerySetWithPermissions:
        """Rows ``user`` may manage: staff their accounts' rows, others only their own."""
        if not _is_live(user):
            return self.none()
        if user.is_superuser:
            scope = self._tenant_scoped(None)
            return self.all() if scope is None else self.filter(account_id__in=scope)
        memberships = active_memberships(user)
        staff_accounts = self._tenant_scoped(
            {m.account_id for m in memberships if m.is_staff}
        ) or set()
        own = [m for m in memberships if not m.is_staff and m.account_id not in staff_accounts]
        own_accounts = self._tenant_scoped({m.account_id for m in own}) or set()
        own_profiles = sorted(m.profile_id for m in own if m.account_id in own_accounts)
        query = Q(account_id__in=sorted(staff_accounts)) | Q(
            account_id__in=sorted(own_accounts), **{f"{self._owner_field()}__in": own_profiles}
        )
        return self.filter(query)


class SmarterBaseModelManager(TenantWallManager.from_queryset(SmarterBaseQuerySetWithPermissions)):  # type: ignore[misc]
    """Manager whose every chained queryset is a SmarterBaseQuerySetWithPermissions."""


class UserProfile(MetaDataModel):
    """A user's membership of an account; also the owner of tenant resources."""

    ROLE_ADMIN = "admin"
    ROLE_MEMBER = "member"
    ROLE_CHOICES = [(ROLE_ADMIN, "Account admin"), (ROLE_MEMBER, "Member")]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="user_profile"
    )
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="user_profiles")
    role = models.CharField(
        "Role", max_length=16, choices=ROLE_CHOICES, default=ROLE_MEMBER,
        help_text="Account admins manage members, settings and data; members use the workspaces.",
    )
    is_active = models.BooleanField(
        "Active", default=True,
        help_text="Turn off to keep this person out of the account without removing them.",
    )
    is_test = models.BooleanField(
        "Test profile", default=False,
        help_text="Marks a membership made by automated tests.",
    )
    created_user = models.BooleanField(
        "Created the person's sign-in", default=False,
        help_text="This membership created the person's sign-in (by signing up or accepting an "
                  "invitation), so deleting a closed account also deletes that sign-in when "
                  "it belongs to no other account.",
    )
    last_sign_in_at = models.DateTimeField(
        "Last sign-in", null=True, blank=True, editable=False,
        help_text="When this person last signed in to this account (sign-ins to their other "
                  "accounts are not shown here).",
    )
    profile_image_url = models.URLField(
        "Picture address", blank=True, default="",
        help_text="The web address of the person's picture, if they have one.",
    )

    objects = SmarterBaseModelManager()

    class Meta:
        ordering = ["account_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "account"], name="accounts_userprofile_unique_membership",
                violation_error_message="This user is already a member of the account.",
            ),
            # The target of the (account_id, user_profile_id) foreign keys of owned rows: they
            # keep an owned row in its owner's account, and are what Citus needs (they
            # include the distribution column).
            models.UniqueConstraint(fields=["account", "id"], name="accounts_userprofile_account_id"),
        ]
        indexes = [models.Index(fields=["account", "user"], name="accounts_up_account_user")]

    def __str__(self) -> str:
        return f"{self.user_id}@{self.account_id}"

    @property
    def is_staff(self) -> bool:
        """True for an account admin: staff of this account only."""
        return self.role == self.ROLE_ADMIN

    @classmethod
    def from_db(cls, db, field_names, values):  # type: ignore[no-untyped-def]
        instance = super().from_db(db, field_names, values)
        # Only the ids actually loaded (a deferred field is absent from __dict__).
        instance._original_ids = {
            f: instance.__dict__[f] for f in ("user_id", "account_id") if f in instance.__dict__
        }
        return instance

    def _stored_ids(self) -> dict[str, Any]:
        """The user and account ids as stored, reading the database for deferred ones."""
        original = dict(getattr(self, "_original_ids", None) or {})
        if len(original) < 2 and self.pk is not None:
            row = (
                type(self).objects.filter(pk=self.pk).values_list("user_id", "account_id").first()
            )
            if row is not None:
                original = {"user_id": row[0], "account_id": row[1], **original}
        return original

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Save; on first save add the user to the account's contacts and emit a signal."""
        if self.user_id is None or self.account_id is None:
            raise ValidationError("A UserProfile needs both a user and an account.")
        if not self._state.adding:
            current = {"user_id": self.user_id, "account_id": self.account_id}
            if any(current[f] != v for f, v in self._stored_ids().items()):
                raise ValidationError("user and account of a UserProfile are immutable.")
        created = self._state.adding
        with transaction.atomic():
            super().save(*args, **kwargs)
            if created:
                contact = self.add_to_account_contacts()
                if contact is not None:
                    contact.claim_primary_if_vacant()
        self._original_ids = {"user_id": self.user_id, "account_id": self.account_id}
        if created:
            user_profile_created.send(sender=type(self), user_profile=self)

    def add_to_account_contacts(self, is_primary: bool = False) -> AccountContact | None:
        """Create or update the AccountContact for this profile's user.

        Users without an email cannot be contacted and are skipped (returns None).
        """
        user = self.user
        email = (user.email or "").strip().lower()
        if not email:
            logger.info("user %s has no email; not added to account contacts", user.pk)
            return None
        with transaction.atomic():
            contact, _ = AccountContact.objects.select_for_update().get_or_create(
                account_id=self.account_id, email=email,
                defaults={"first_name": user.first_name, "last_name": user.last_name},
            )
            if is_primary and not contact.is_primary:
                AccountContact.objects.filter(
                    account_id=self.account_id, is_primary=True
                ).update(is_primary=False)
                contact.is_primary = True
            contact.first_name = contact.first_name or user.first_name
            contact.last_name = contact.last_name or user.last_name
            contact.save()
        return contact

    @classmethod
    def portable_imported(cls, account_id: int) -> None:
        """Members were imported into the account: their users' memberships, the profiles and
        the account's admin are stale in the caches (matched users may have cached them).
        Invalidated now and again once the import commits, a chunk of members at a time
        (read again each time), so that memory does not grow with the account's members."""
        def invalidate() -> None:
            tenant_cache.invalidate(admin_key(account_id))
            last = 0
            with tenant_context(account_id):
                while chunk := list(cls.objects.filter(account_id=account_id, pk__gt=last).order_by("pk")
                                    .values_list("pk", "user_id")[:INVALIDATION_CHUNK]):
                    tenant_cache.invalidate(*[key for pk, user_id in chunk for key in (
                        memberships_key(user_id), profile_key(user_id, account_id), profile_pk_key(pk))])
                    last = chunk[-1][0]

        invalidate()
        if transaction.get_connection().in_atomic_block:
            transaction.on_commit(invalidate)

    @classmethod
    def admin_for_account(cls, account: Account) -> User:
        """The account's designated user: its first admin, else its first member.

        An account with no members gets a new account admin (never superuser) with an
        unusable password; an operator must set one.
        """
        if not isinstance(account, Account) or account.pk is None:
            raise ValueError("admin_for_account needs a saved Account")
        members = cls.objects.filter(account=account, is_active=True, user__is_active=True)
        profile = members.filter(role=cls.ROLE_ADMIN).order_by("id").first() or members.order_by(
            "id"
        ).first()
        if profile is not None:
            return profile.user
        logger.error("account %s has no users; creating its admin", account.account_number)
        return cls.create_admin_for_account(account)

    @classmethod
    def create_admin_for_account(cls, account: Account) -> User:
        """A new account admin (the profile's role; never superuser, and ``User.is_staff``
        is left to operators) with an unusable password.

        Named ``admin-NNNN-NNNN-NNNN``; if that user exists but is not an active admin here
        (an operator demoted or deactivated it), a fresh suffixed name is used instead of
        silently reviving it.
        """
        user_model = get_user_model()
        base = f"admin-{account.account_number}"
        for attempt in range(5):
            username = base if attempt == 0 else f"{base}-{secrets.token_hex(3)}"
            with transaction.atomic():
                user, created = user_model.objects.get_or_create(username=username)
                if created:
                    user.set_unusable_password()
                    user.save(update_fields=["password"])
                try:
                    with transaction.atomic():
                        profile, _ = cls.objects.get_or_create(
                            user=user, account=account,
                            defaults={"role": cls.ROLE_ADMIN, "created_user": created},
                        )
                except IntegrityError:  # created concurrently
                    profile = cls.objects.get(user=user, account=account)
            if profile.is_active and profile.role == cls.ROLE_ADMIN and user.is_active:
                return user
        raise RuntimeError(f"could not create an admin for account {account.account_number}")

    @property
    def cached_user(self) -> User:
        """The profile's user, from the two-level cache."""
        return get_cached_user_for_user_id(user_id=self.user_id)  # type: ignore[return-value]

    @property
    def cached_account(self) -> Account:
        """The profile's account, from the two-level cache."""
        return get_cached_account(account_id=self.account_id)  # type: ignore[return-value]

    @classmethod
    def get_cached_object(
        cls,
        *args: Any,
        invalidate: bool = False,
        pk: int | None = None,
        name: str | None = None,
        user: User | None = None,
        username: str | None = None,
        account: Account | None = None,
        **kwargs: Any,
    ) -> UserProfile | None:
        """A profile by pk, by (user or username, account), by user, by account (its first
        active admin's, as the seed's own tests use it), or by name; else None."""
        if args and pk is None:
            pk = args[0]
        if pk is not None:
            return get_cached_profile_by_pk(pk, invalidate=invalidate)
        if user is None and username is not None:
            try:
                user = get_cached_user_for_username(username=username, invalidate=invalidate)
            except get_user_model().DoesNotExist:
                return None
        if user is not None:
            if account is not None:
                return get_cached_profile(user.pk, account.pk, invalidate=invalidate)
            first = cls.get_cached_objects(invalidate=invalidate, user=user).first()
            return first
        if name is not None:
            named = cls.objects.filter(name=name)
            if account is not None:
                named = named.filter(account=account)
            return named.order_by("id").first()
        if account is not None:
            return get_cached_admin_profile(account.pk, invalidate=invalidate)
        return None

    @classmethod
    def get_cached_objects(
        cls, invalidate: bool = False, user: User | None = None, **kwargs: Any
    ) -> models.QuerySet[UserProfile]:
        """Profiles of ``user`` (ids from the cache), or all profiles when no user is given."""
        if user is None:
            return cls.objects.all()
        ids = [m.profile_id for m in active_memberships(user, invalidate=invalidate)]
        return cls.objects.filter(pk__in=ids).order_by("id")


tenancy.register(UserProfile, audit=True, permission_owner_field="pk",
                 portability=tenancy.Portability(imported=UserProfile.portable_imported))
