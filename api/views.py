"""The account admin's endpoints. Every queryset is the permission queryset (already scoped to
the host's tenant by the middleware) additionally filtered to ``request.account``."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts import invitations
from accounts.actions import invites, members
from accounts.models import AccountContact, ApiKey, Invitation, UserProfile
from accounts.utils import get_cached_admin_user_for_account, get_cached_profile
from domains.canonical import set_canonical
from domains.claims import ClaimRefused, add_domain
from domains.models import Domain
from domains.verification import check_domain
from workspaces.models import Workspace

from .errors import Conflict, error_body
from .idempotency import idempotent_view
from .permissions import IsAccountAdminOrReadOnly, is_api_admin, request_profile
from .serializers import (
    AccountSerializer,
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    ContactSerializer,
    DomainCanonicalSerializer,
    DomainSerializer,
    DomainUpdateSerializer,
    InvitationSerializer,
    UserProfileCreateSerializer,
    UserProfileSerializer,
    WorkspaceSerializer,
)


class TenantMixin:
    permission_classes = [IsAccountAdminOrReadOnly]
    request: Any

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()  # type: ignore[misc]
        context["account"] = getattr(self.request, "account", None)
        context["profile"] = request_profile(self.request) if hasattr(self.request, "_request") else None
        return context

    def scoped(self, model: Any) -> QuerySet:
        """Reads: the read-permission queryset; writes: the ownership one; both this tenant only."""
        user = self.request.user
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            qs = model.objects.with_read_permission_for(user)
        else:
            qs = model.objects.with_ownership_permission_for(user)
        return qs.filter(account=self.request.account)


@extend_schema_view(
    get=extend_schema(summary="The account of this host"),
    patch=extend_schema(summary="Update the account's details (account admins)"),
)
class AccountView(TenantMixin, generics.RetrieveUpdateAPIView):
    serializer_class = AccountSerializer
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self) -> Any:
        obj = self.request.account
        self.check_object_permissions(self.request, obj)
        return obj

    def perform_update(self, serializer: Any) -> None:
        with transaction.atomic():
            serializer.save()


class ContactViewSet(TenantMixin, viewsets.ModelViewSet):
    """Contacts of the account. Exactly one is primary whenever any exist."""

    queryset = AccountContact.objects.none()  # the schema's path types; requests use get_queryset
    serializer_class = ContactSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    create = idempotent_view(mixins.CreateModelMixin.create)

    def get_queryset(self) -> QuerySet:
        contacts = AccountContact.objects.filter(account=self.request.account)
        return contacts.order_by("-is_primary", "email", "id")

    def _lock(self) -> None:
        AccountContact.lock_account(self.request.account.pk)

    def perform_create(self, serializer: Any) -> None:
        with transaction.atomic():
            self._lock()
            make_primary = serializer.validated_data.pop("is_primary", False)
            contact = serializer.save(account=self.request.account, is_primary=False)
            self._set_primary(contact, make_primary)

    def perform_update(self, serializer: Any) -> None:
        with transaction.atomic():
            self._lock()
            make_primary = serializer.validated_data.pop("is_primary", False)
            contact = serializer.save()
            self._set_primary(contact, make_primary)

    def _set_primary(self, contact: AccountContact, make_primary: bool) -> None:
        others = AccountContact.objects.filter(account=self.request.account, is_primary=True)
        others = others.exclude(pk=contact.pk)
        if make_primary or not others.exists():
            others.update(is_primary=False)
            AccountContact.objects.filter(pk=contact.pk).update(is_primary=True)
            contact.is_primary = True

    def perform_destroy(self, instance: AccountContact) -> None:
        with transaction.atomic():
            self._lock()
            instance.delete()
            if instance.is_primary:
                rest = AccountContact.objects.filter(account=self.request.account)
                heir = rest.order_by("created_at", "id").first()
                if heir is not None:
                    AccountContact.objects.filter(pk=heir.pk).update(is_primary=True)


@extend_schema_view(
    create=extend_schema(request=UserProfileCreateSerializer, responses={202: InvitationSerializer},
                         summary="Add a member: the address is invited (the same answer for "
                                 "every address)"),
    batch=extend_schema(
        request={"application/json": {"type": "array", "minItems": 1, "maxItems": 100,
                                       "items": {"$ref": "#/components/schemas/UserProfileCreateRequest"}}},
        responses={202: InvitationSerializer(many=True)},
        summary="Invite several members at once: all or nothing",
    ),
    partial_update=extend_schema(summary="Change a member's role or deactivate/reactivate them "
                                         "(409 for the account's last active admin)"),
    destroy=extend_schema(summary="Remove a member: what they own goes to an admin, their API keys "
                                  "end (409 for the account's last active admin)"),
)
class UserProfileViewSet(TenantMixin, viewsets.ModelViewSet):
    """Members of the account: list, add (by invitation), change role, (de)activate, remove."""

    queryset = UserProfile.objects.none()  # the schema's path types; requests use get_queryset
    serializer_class = UserProfileSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet:
        return self.scoped(UserProfile).select_related("user").order_by("id")

    def get_serializer_class(self) -> Any:
        if self.action in ("create", "batch"):
            return UserProfileCreateSerializer
        return UserProfileSerializer

    def _invite(self, rows: list[dict[str, Any]]) -> Response:
        """Invite every row in one transaction (one refusal sends nothing): 202 with the
        invitations, the same shape whether or not an address has a user already."""
        try:
            with transaction.atomic():
                sent = [invites.do_invite_member(self.request._request, self.request.account,
                                                 row["email"], row["role"], acting_user=self.request.user)
                        for row in rows]
        except invitations.SendLimited:
            raise exceptions.Throttled() from None
        except invitations.InvitationRefused as exc:
            raise Conflict(str(exc), {"email": [str(exc)]}) from None
        body = InvitationSerializer(sent, many=True, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @idempotent_view
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = UserProfileCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        response = self._invite([serializer.validated_data])
        response.data = response.data[0]
        return response

    @action(detail=False, methods=["post"], pagination_class=None)
    @idempotent_view
    def batch(self, request: Any) -> Response:
        if not isinstance(request.data, list) or not request.data:
            raise serializers.ValidationError(
                {"non_field_errors": ["Send a non-empty JSON list of members."]}
            )
        if len(request.data) > 100:
            raise serializers.ValidationError({"non_field_errors": ["At most 100 members per batch."]})
        emails = [str(row.get("email", "")).strip().lower() for row in request.data if isinstance(row, dict)]
        dupes = sorted({e for e in emails if e and emails.count(e) > 1})
        if dupes:
            raise Conflict("The batch repeats an email.", {"email": [f"repeated: {', '.join(dupes)}"]})
        serializer = UserProfileCreateSerializer(data=request.data, many=True,
                                                 context=self.get_serializer_context())
        if not serializer.is_valid():
            errors = serializer.errors
            rows = errors.items() if isinstance(errors, dict) else enumerate(errors)
            raise serializers.ValidationError({f"{i}": errs for i, errs in rows if errs})
        return self._invite(list(serializer.validated_data))

    def perform_update(self, serializer: Any) -> None:
        """Role and active flag through the member actions (the serializer writes nothing else)."""
        data = serializer.validated_data
        try:
            serializer.instance = members.do_change_membership(
                serializer.instance, role=data.get("role"), active=data.get("is_active"),
                acting_user=self.request.user)
        except members.MemberChangeRefused as exc:
            raise Conflict(exc.message, code=exc.code) from None

    def perform_destroy(self, instance: UserProfile) -> None:
        """Remove the member: their resources go to another admin, their keys end."""
        try:
            members.do_remove_member(instance, acting_user=self.request.user)
        except members.MemberChangeRefused as exc:
            raise Conflict(exc.message, code=exc.code) from None


class WorkspaceViewSet(TenantMixin, viewsets.ModelViewSet):
    queryset = Workspace.objects.none()  # the schema's path types; requests use get_queryset
    serializer_class = WorkspaceSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    create = idempotent_view(mixins.CreateModelMixin.create)

    def get_queryset(self) -> QuerySet:
        return self.scoped(Workspace).order_by("name", "id")

    def perform_create(self, serializer: Any) -> None:
        with transaction.atomic():
            serializer.save(user_profile=request_profile(self.request))

    def perform_update(self, serializer: Any) -> None:
        with transaction.atomic():
            serializer.save()

    def perform_destroy(self, instance: Workspace) -> None:
        with transaction.atomic():
            instance.delete()


@extend_schema_view(
    create=extend_schema(request=ApiKeyCreateSerializer,
                         responses={201: ApiKeyCreatedSerializer},
                         summary="Create a key; the full key is in this response only"),
    destroy=extend_schema(summary="Revoke a key", responses={204: OpenApiResponse(description="Revoked")}),
)
class ApiKeyViewSet(TenantMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                    mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """API keys of the account: list, create, revoke (DELETE keeps the row, inactive)."""

    queryset = ApiKey.objects.none()  # the schema's path types; requests use get_queryset
    serializer_class = ApiKeySerializer

    create = idempotent_view(mixins.CreateModelMixin.create)

    def get_queryset(self) -> QuerySet:
        return self.scoped(ApiKey).select_related("user_profile").order_by("-created_at", "-id")

    def get_serializer_class(self) -> Any:
        return ApiKeyCreateSerializer if self.action == "create" else ApiKeySerializer

    def perform_create(self, serializer: Any) -> None:
        with transaction.atomic():
            serializer.save()

    def perform_destroy(self, instance: ApiKey) -> None:
        if instance.is_active:
            instance.revoke()


@extend_schema_view(
    partial_update=extend_schema(request=DomainUpdateSerializer, responses={200: DomainSerializer}),
    verify=extend_schema(request=None, responses={200: DomainSerializer},
                         summary="Check the domain's DNS records now"),
    canonical=extend_schema(request=DomainCanonicalSerializer, responses={200: DomainSerializer},
                            summary="Make the domain canonical (or stop) for the number host"),
)
class DomainViewSet(TenantMixin, viewsets.ModelViewSet):
    """Custom domains of the account: add, list (with the DNS records to create), verify,
    choose the workspace, make canonical, remove."""

    queryset = Domain.objects.none()  # the schema's path types; requests use get_queryset
    serializer_class = DomainSerializer
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    create = idempotent_view(mixins.CreateModelMixin.create)

    def get_queryset(self) -> QuerySet:
        return self.scoped(Domain).select_related("workspace").order_by("hostname", "id")

    def perform_create(self, serializer: Any) -> None:
        """:func:`domains.claims.add_domain`: a new pending domain, or another account's
        unproven claim taken over by this account's TXT proof; 409 (held elsewhere) or 400
        (this account's pending limit) with its message."""
        data = serializer.validated_data
        owner = request_profile(self.request)
        if owner is None:  # a platform superuser's key: acts for the account's admin, as the console
            account = self.request._request.account  # type: ignore[attr-defined]
            owner = get_cached_profile(get_cached_admin_user_for_account(account).pk, account.pk)
        if owner is None:
            raise exceptions.PermissionDenied("The account has no admin to own the domain.")
        try:
            serializer.instance = add_domain(owner, data["hostname"], data.get("workspace"))
        except ClaimRefused as exc:
            if exc.conflict:
                raise Conflict(exc.message, {"hostname": [exc.message]}) from None
            raise exceptions.ValidationError({"hostname": [exc.message]}) from None

    def perform_update(self, serializer: Any) -> None:
        with transaction.atomic():
            serializer.save()

    def perform_destroy(self, instance: Domain) -> None:
        with transaction.atomic():
            instance.delete()

    @action(detail=True, methods=["post"])
    def verify(self, request: Any, pk: str | None = None) -> Response:
        outcome = check_domain(self.get_object())
        if outcome.domain is None:
            raise Conflict("The domain was removed meanwhile.")
        return Response(DomainSerializer(outcome.domain, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"])
    def canonical(self, request: Any, pk: str | None = None) -> Response:
        domain = self.get_object()
        body = DomainCanonicalSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        make = body.validated_data["canonical"]
        if make and domain.status != Domain.VERIFIED:
            raise Conflict("Only a verified domain can be canonical.")
        try:
            set_canonical(request._request.account, domain if make else None)
        except IntegrityError:
            raise Conflict("Another change to the canonical domain happened at the same time.") from None
        domain.refresh_from_db()
        return Response(DomainSerializer(domain, context=self.get_serializer_context()).data)


class IsAccountAdmin(IsAccountAdminOrReadOnly):
    """Invitations carry addresses of people who are not members yet: admins only."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return super().has_permission(request, view) and is_api_admin(request)


@extend_schema_view(
    create=extend_schema(summary="Invite an address with a role; the invitation is mailed"),
    destroy=extend_schema(summary="Revoke an invitation",
                          responses={204: OpenApiResponse(description="Revoked")}),
    resend=extend_schema(request=None, summary="Mail a new link (the old one stops working)"),
)
class InvitationViewSet(TenantMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Invitations of the account with their status (pending, accepted, expired, revoked)."""

    queryset = Invitation.objects.none()  # the schema's path types; requests use get_queryset
    serializer_class = InvitationSerializer
    permission_classes = [IsAccountAdmin]

    create = idempotent_view(mixins.CreateModelMixin.create)

    def get_queryset(self) -> QuerySet:
        return (Invitation.objects.filter(account=self.request.account)
                .select_related("invited_by__user").order_by("-created_at", "-id"))

    def perform_create(self, serializer: Any) -> None:
        data = serializer.validated_data
        try:
            serializer.instance = invites.do_invite_member(
                self.request._request, self.request.account, data["email"],
                data.get("role", UserProfile.ROLE_MEMBER), acting_user=self.request.user)
        except invitations.SendLimited:
            raise exceptions.Throttled() from None
        except invitations.InvitationRefused as exc:
            raise Conflict(str(exc), {"email": [str(exc)]}) from None

    def perform_destroy(self, instance: Invitation) -> None:
        try:
            invitations.revoke(instance)
        except invitations.InvitationRefused as exc:
            raise Conflict(str(exc)) from None

    @action(detail=True, methods=["post"])
    def resend(self, request: Any, pk: Any = None) -> Response:
        invitation = self.get_object()
        try:
            invitations.resend(request._request, invitation)
        except invitations.SendLimited:
            raise exceptions.Throttled() from None
        except invitations.InvitationRefused as exc:
            raise Conflict(str(exc)) from None
        return Response(InvitationSerializer(invitation).data)


@csrf_exempt
def not_found(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under /api/v1/: a JSON 404 in the API's error shape, not an HTML page."""
    return JsonResponse(error_body(404, "No such endpoint."), status=404)
