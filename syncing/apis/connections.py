"""/v2.1/connections: list, create, read and synchronise the user's connections
(DESIGN.md, "Connections and inbound sync")."""

from contextlib import contextmanager

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from integration_hub.api.errors import WRITE_ERROR_CODES, error_responses
from integration_hub.api.ids import ID_MAXIMUM
from integration_hub.api.strict_types import StrictTypesMixin

from ..models import SyncJob
from ..selectors import connection_get, connection_list, connection_of, connection_resource
from ..services.connections import (
    IdentityNotVerified,
    IntegrationDisabled,
    IntegrationNotConnectable,
    IntegrationNotFound,
    connection_create,
)
from ..services.sync_jobs import sync_request
from ..services.triggers import sync_now_each
from .v21 import V21Api, array_of

PERSONAL_NUMBER = r"^[0-9]{10,12}$"
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
        "integration": {
            "type": "integer",
            "minimum": 1,
            "maximum": ID_MAXIMUM,
            "description": "An enabled ORGANISATION_KIT integration.",
        },
        "personalNumber": {"type": "string", "pattern": PERSONAL_NUMBER, "maxLength": 12},
        "email": {"type": "string", "format": "email", "maxLength": 254},
        "autoSync": {"type": "boolean", "default": True},
    },
}
_NO_CONNECTION = "No such connection of yours."
# A disabled integration is never called (DESIGN.md): the 409 of the syncs that would call it.
DISABLED_409 = (
    "The integration is disabled (never called): {'detail': 'The integration NAME is disabled.'}."
)


class IntegrationConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The integration is disabled."
    default_code = "integration_disabled"


@contextmanager
def integration_errors():
    """The `integration` a body names: 404 naming the field if there is none, 400 if it is
    not an Organisation Kit, 409 if it is disabled (DESIGN.md: never called)."""
    try:
        yield
    except IntegrationNotFound as exc:
        raise exceptions.NotFound({"integration": [str(exc)]}) from None
    except IntegrationDisabled as exc:
        raise IntegrationConflict(str(exc)) from None
    except IntegrationNotConnectable as exc:
        raise exceptions.ValidationError({"integration": [str(exc)]}) from None


class ConnectionCreateInputSerializer(StrictTypesMixin, serializers.Serializer):
    integration = serializers.IntegerField(min_value=1, max_value=ID_MAXIMUM)
    personalNumber = serializers.RegexField(PERSONAL_NUMBER, required=False, max_length=12)
    email = serializers.EmailField(required=False, max_length=254)
    autoSync = serializers.BooleanField(default=True)

    def validate(self, attrs):
        if attrs.get("personalNumber") and attrs.get("email"):
            raise exceptions.ValidationError({"email": ["Give personalNumber or email, not both."]})
        return attrs


class ConnectionListCreateApi(V21Api):
    @extend_schema(
        operation_id="v21_connections_list",
        summary="List your connections",
        responses={200: array_of(CONNECTION_SCHEMA), **error_responses(401)},
    )
    def get(self, request):
        return Response([connection_resource(c) for c in connection_list(user=request.user)])

    @extend_schema(
        operation_id="v21_connections_create",
        summary="Connect to an Organisation Kit integration",
        description="Through one of your verified identities (omitted: yours); queues the "
        "connection's initial sync. An identity you have not verified is refused with 403. "
        "Rules the schema cannot express (400): personalNumber and email are not both given, "
        "and the integration is an Organisation Kit one.",
        request={"application/json": CONNECTION_CREATE_SCHEMA},
        responses={
            201: OpenApiResponse(response=CONNECTION_SCHEMA),
            **error_responses(
                *WRITE_ERROR_CODES,
                notes={
                    400: "Invalid input, or not an Organisation Kit integration.",
                    403: "The identity is not one you have verified.",
                    404: "No integration with that id: {'integration': [...]}.",
                    409: "The integration is disabled.",
                },
            ),
        },
    )
    def post(self, request):
        serializer = ConnectionCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            with integration_errors():
                connection = connection_create(
                    user=request.user,
                    integration_id=data["integration"],
                    personal_number=data.get("personalNumber"),
                    email=data.get("email"),
                    auto_sync=data["autoSync"],
                )
        except IdentityNotVerified as exc:
            raise exceptions.PermissionDenied(str(exc)) from None
        connection = connection_get(user=request.user, connection_id=connection.pk)
        return Response(connection_resource(connection), status=status.HTTP_201_CREATED)


class ConnectionDetailApi(V21Api):
    @extend_schema(
        operation_id="v21_connections_retrieve",
        summary="Read one of your connections",
        responses={
            200: OpenApiResponse(response=CONNECTION_SCHEMA),
            **error_responses(401, 404, notes={404: _NO_CONNECTION}),
        },
    )
    def get(self, request, connection_id: str):
        connection = connection_of(user=request.user, connection_id=connection_id)
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
            **error_responses(
                400,
                401,
                404,
                409,
                notes={400: "An unknown type.", 404: _NO_CONNECTION, 409: DISABLED_409},
            ),
        },
    )
    def post(self, request, connection_id: str):
        connection = connection_of(user=request.user, connection_id=connection_id)
        kind = request.query_params.get("type", SyncJob.Kind.ALL)
        if kind not in (SyncJob.Kind.ALL, SyncJob.Kind.LIST_ACCOUNTS):
            raise exceptions.ValidationError({"type": ["ALL or LIST_ACCOUNTS."]})
        sync_request(connection=connection, kind=kind, acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConnectionSynchronizeAllApi(V21Api):
    @extend_schema(
        operation_id="v21_connections_synchronize_all",
        summary="Synchronise all your connections",
        description="Queues a full sync of each connection whose integration is enabled and "
        "links those; connections of disabled integrations are skipped (never called), and "
        "when every one is disabled the answer is 409 naming them.",
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
            **error_responses(401, 409, notes={409: DISABLED_409}),
        },
    )
    def post(self, request):
        connections = sync_now_each(
            connections=connection_list(user=request.user), acting_user=request.user
        )
        return Response({"connection_links": [f"/v2.1/connections/{c.pk}" for c in connections]})
