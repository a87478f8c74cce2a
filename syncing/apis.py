"""The /v2.1/ API of connections, synchronisation and event queues (reference 002, with the
literal snake_case shapes of DESIGN.md), and the mirror under /api/v1/.

/v2.1/ views render and parse plain JSON (no camelCase conversion) and document their bodies
with raw schemas, so that the schema's camelCase post-processing leaves them as they are.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.pagination import PageNumberPagination
from integration_hub.api.strict_types import StrictTypesMixin

from .models import Account, SyncJob
from .selectors import (
    connection_accounts,
    connection_get,
    connection_list,
    connection_resource,
    queue_events,
    queue_list,
    unix_seconds,
)
from .services.connections import (
    IdentityNotVerified,
    IntegrationNotConnectable,
    connection_create,
)
from .services.sync_jobs import sync_request

ERRORS = {
    401: OpenApiResponse(description="No or bad credentials."),
    404: OpenApiResponse(description="No such connection of yours."),
}
_NULLABLE_INT = {"type": "integer", "nullable": True}
CONNECTION_SCHEMA = {
    "type": "object",
    "required": ["id", "provider_id", "name", "status", "auto_sync", "channels", "creation_date"],
    "properties": {
        "id": {"type": "string"},
        "provider_id": {"type": "string"},
        "name": {"type": "string"},
        "status": {"type": "string", "enum": ["PENDING", "IN_PROGRESS", "SUCCESS", "ERROR"]},
        "auto_sync": {"type": "boolean"},
        "channels": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["channel_definition_id", "status"],
                "properties": {
                    "channel_definition_id": {"type": "string"},
                    "status": {"type": "string"},
                    "last_success_date": _NULLABLE_INT,
                    "last_end_date": _NULLABLE_INT,
                },
            },
        },
        "creation_date": {"type": "integer"},
    },
}
CONNECTION_CREATE_SCHEMA = {
    "type": "object",
    "required": ["integration"],
    "properties": {
        "integration": {"type": "integer", "description": "An ORGANISATION_KIT integration."},
        "personalNumber": {"type": "string", "maxLength": 20},
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "autoSync": {"type": "boolean", "default": True},
    },
}
QUEUE_SCHEMA = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
}
EVENT_SCHEMA = {
    "type": "object",
    "required": ["id", "event_type", "resource_type", "creation_date", "resource"],
    "properties": {
        "id": {"type": "string"},
        "event_type": {"type": "string"},
        "resource_type": {"type": "string"},
        "creation_date": {"type": "integer"},
        "resource": {"type": "object", "additionalProperties": True},
    },
}


class V21Api(APIView):
    """Plain JSON in and out; the user's own data only."""

    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]


class ConnectionCreateInputSerializer(StrictTypesMixin, serializers.Serializer):
    integration = serializers.IntegerField(min_value=1)
    personalNumber = serializers.RegexField(r"^[0-9]{10,12}$", required=False, max_length=20)
    email = serializers.EmailField(required=False, max_length=254)
    autoSync = serializers.BooleanField(default=True)

    def validate(self, attrs):
        if attrs.get("personalNumber") and attrs.get("email"):
            raise ValidationError({"email": ["Give personalNumber or email, not both."]})
        return attrs


def _connection_id(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise NotFound("No such connection of yours.") from None


class ConnectionListCreateApi(V21Api):
    @extend_schema(
        operation_id="v21_connections_list",
        summary="List your connections",
        responses={
            200: OpenApiResponse(response={"type": "array", "items": CONNECTION_SCHEMA}),
            401: ERRORS[401],
        },
    )
    def get(self, request):
        return Response([connection_resource(c) for c in connection_list(user=request.user)])

    @extend_schema(
        operation_id="v21_connections_create",
        summary="Connect to an Organisation Kit integration",
        description="Through one of your verified identities (omitted: yours); queues the "
        "connection's initial sync. An identity you have not verified is refused with 403.",
        request={"application/json": CONNECTION_CREATE_SCHEMA},
        responses={
            201: OpenApiResponse(response=CONNECTION_SCHEMA),
            400: OpenApiResponse(description="Invalid input, or not a connectable integration."),
            401: ERRORS[401],
            403: OpenApiResponse(description="The identity is not one you have verified."),
        },
    )
    def post(self, request):
        serializer = ConnectionCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            connection = connection_create(
                user=request.user,
                integration_id=data["integration"],
                personal_number=data.get("personalNumber"),
                email=data.get("email"),
                auto_sync=data["autoSync"],
            )
        except IdentityNotVerified as exc:
            raise PermissionDenied(str(exc)) from None
        except IntegrationNotConnectable as exc:
            raise ValidationError({"integration": [str(exc)]}) from None
        connection = connection_get(user=request.user, connection_id=connection.pk)
        return Response(connection_resource(connection), status=status.HTTP_201_CREATED)


class ConnectionDetailApi(V21Api):
    @extend_schema(
        operation_id="v21_connections_retrieve",
        summary="Read one of your connections",
        responses={200: OpenApiResponse(response=CONNECTION_SCHEMA), **ERRORS},
    )
    def get(self, request, connection_id: str):
        connection = connection_get(user=request.user, connection_id=_connection_id(connection_id))
        if connection is None:
            raise NotFound("No such connection of yours.")
        return Response(connection_resource(connection))


class ConnectionSynchronizeApi(V21Api):
    @extend_schema(
        operation_id="v21_connections_synchronize",
        summary="Synchronise one connection",
        description="Queues a sync of this type; while one of this connection is queued or "
        "running, answers 204 all the same and starts nothing new.",
        request=None,
        parameters=[
            OpenApiParameter(
                "type", str, enum=["ALL", "LIST_ACCOUNTS"], required=False, default="ALL"
            )
        ],
        responses={
            204: OpenApiResponse(description="Taken into consideration."),
            400: OpenApiResponse(description="An unknown type."),
            **ERRORS,
        },
    )
    def post(self, request, connection_id: str):
        connection = connection_get(user=request.user, connection_id=_connection_id(connection_id))
        if connection is None:
            raise NotFound("No such connection of yours.")
        kind = request.query_params.get("type", SyncJob.Kind.ALL)
        if kind not in (SyncJob.Kind.ALL, SyncJob.Kind.LIST_ACCOUNTS):
            raise ValidationError({"type": ["ALL or LIST_ACCOUNTS."]})
        sync_request(connection=connection, kind=kind, acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionSynchronizeAllApi(V21Api):
    @extend_schema(
        operation_id="v21_connections_synchronize_all",
        summary="Synchronise all your connections",
        request=None,
        responses={
            200: OpenApiResponse(
                response={
                    "type": "object",
                    "required": ["connection_links"],
                    "properties": {
                        "connection_links": {"type": "array", "items": {"type": "string"}}
                    },
                }
            ),
            401: ERRORS[401],
        },
    )
    def post(self, request):
        links = []
        for connection in connection_list(user=request.user):
            sync_request(connection=connection, kind=SyncJob.Kind.ALL, acting_user=request.user)
            links.append(f"/v2.1/connections/{connection.pk}")
        return Response({"connection_links": links})


class QueueListApi(V21Api):
    @extend_schema(
        operation_id="v21_queues_list",
        summary="List your event queues",
        responses={
            200: OpenApiResponse(response={"type": "array", "items": QUEUE_SCHEMA}),
            401: ERRORS[401],
        },
    )
    def get(self, request):
        return Response([{"id": str(q.pk), "name": q.name} for q in queue_list(user=request.user)])


class QueueEventsApi(V21Api):
    @extend_schema(
        operation_id="v21_queue_events",
        summary="Events of one of your queues, oldest first",
        description="At most 500 at a time: read on with `after` set to the last id received.",
        parameters=[
            OpenApiParameter(
                "after", OpenApiTypes.INT, required=False, description="Only events after this id."
            )
        ],
        responses={
            200: OpenApiResponse(response={"type": "array", "items": EVENT_SCHEMA}),
            400: OpenApiResponse(description="after is not a whole number."),
            401: ERRORS[401],
            404: OpenApiResponse(description="No such queue of yours."),
        },
    )
    def get(self, request, queue_id: str):
        after = request.query_params.get("after")
        if after is not None:
            try:
                after = int(after)
            except ValueError:
                raise ValidationError({"after": ["A whole number: an event id."]}) from None
        try:
            events = queue_events(user=request.user, queue_id=int(queue_id), after=after)
        except ValueError:
            events = None
        if events is None:
            raise NotFound("No such queue of yours.")
        return Response(
            [
                {
                    "id": str(event.pk),
                    "event_type": event.event_type,
                    "resource_type": event.resource_type,
                    "creation_date": unix_seconds(event.created_at),
                    "resource": event.resource,
                }
                for event in events
            ]
        )


# /api/v1/ (camelCase)


class AgreementOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="partner_id")
    name = serializers.CharField()
    status = serializers.CharField()
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)


class ProductOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="partner_id")
    name = serializers.CharField()
    price = serializers.DecimalField(max_digits=14, decimal_places=4, allow_null=True)
    unit = serializers.CharField()


class ServiceOutputSerializer(serializers.Serializer):
    """cost_id, agreements and products: null for a GUEST of the account (DESIGN.md)."""

    id = serializers.CharField(source="partner_id")
    type = serializers.CharField()
    name = serializers.CharField()
    measurement_id = serializers.CharField()
    cost_id = serializers.SerializerMethodField()
    agreements = serializers.SerializerMethodField()
    products = serializers.SerializerMethodField()

    def _is_owner(self) -> bool:
        return self.context.get("role") == Account.Role.OWNER

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_cost_id(self, service) -> str | None:
        return service.cost_id if self._is_owner() else None

    @extend_schema_field(AgreementOutputSerializer(many=True, allow_null=True))
    def get_agreements(self, service):
        if not self._is_owner():
            return None
        return AgreementOutputSerializer(service.agreements.all(), many=True).data

    @extend_schema_field(ProductOutputSerializer(many=True, allow_null=True))
    def get_products(self, service):
        if not self._is_owner():
            return None
        return ProductOutputSerializer(service.products.all(), many=True).data


class LocationOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="partner_id")
    name = serializers.CharField()
    address = serializers.CharField()
    services = serializers.SerializerMethodField()

    @extend_schema_field(ServiceOutputSerializer(many=True))
    def get_services(self, location):
        return ServiceOutputSerializer(
            location.services.all(), many=True, context=self.context
        ).data


class AccountUserOutputSerializer(serializers.Serializer):
    id = serializers.CharField(source="partner_id")
    role = serializers.CharField()
    name = serializers.CharField()
    email_address = serializers.CharField()
    phone_number = serializers.CharField()


class AccountOutputSerializer(serializers.Serializer):
    """What the hub user may see of one mirrored account: everything as its OWNER; as a
    GUEST locations and services only (no users, agreements, products or cost)."""

    id = serializers.CharField(source="partner_id")
    customer_id = serializers.CharField()
    name = serializers.CharField()
    type = serializers.CharField()
    role = serializers.ChoiceField(choices=Account.Role.choices)
    users = serializers.SerializerMethodField()
    locations = serializers.SerializerMethodField()

    @extend_schema_field(AccountUserOutputSerializer(many=True, allow_null=True))
    def get_users(self, account):
        if account.role != Account.Role.OWNER:
            return None
        return AccountUserOutputSerializer(account.users.all(), many=True).data

    @extend_schema_field(LocationOutputSerializer(many=True))
    def get_locations(self, account):
        return LocationOutputSerializer(
            account.locations.all(), many=True, context={"role": account.role}
        ).data


class ConnectionAccountListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="connection_accounts_list",
        summary="The mirrored accounts of one of your connections",
        description="With users, locations, services, agreements and products, as far as your "
        "role on each account (OWNER or GUEST) allows.",
        responses={
            200: AccountOutputSerializer(many=True),
            401: ERRORS[401],
            404: OpenApiResponse(
                description="No such connection of yours, or a page past the last."
            ),
        },
    )
    def get(self, request, connection_id: str):
        connection = connection_get(user=request.user, connection_id=_connection_id(connection_id))
        if connection is None:
            raise NotFound("No such connection of yours.")
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            connection_accounts(connection=connection), request, view=self
        )
        return paginator.get_paginated_response(AccountOutputSerializer(page, many=True).data)
