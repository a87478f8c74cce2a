"""REST API of the core: integrations and the credential store (DESIGN.md, "REST API")."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub import roles
from integration_hub.api.pagination import PageNumberPagination
from integration_hub.api.permissions import (
    IsSystemAdmin,
    IsSystemAdminOrConfig,
    IsSystemAdminOrConfigOrReadOnly,
)
from integration_hub.api.strict_types import StrictTypesMixin
from integration_hub.models import DEFAULT_CREDENTIAL_MAP, Credential, Integration
from integration_hub.services.credentials import credential_delete, credential_set
from integration_hub.services.integrations import (
    integration_create,
    integration_delete,
    integration_update,
)

ERRORS = {
    400: OpenApiResponse(description="Invalid input: each field named with its messages."),
    401: OpenApiResponse(description="No or bad credentials."),
    403: OpenApiResponse(description="The role does not allow this."),
}


class IntegrationInputSerializer(StrictTypesMixin, serializers.ModelSerializer):
    class Meta:
        model = Integration
        fields = [
            "name",
            "kind",
            "base_url",
            "auth_type",
            "token_url",
            "credential_map",
            "credential_key",
            "enabled",
            "service_user",
        ]
        extra_kwargs = {
            "service_user": {
                "help_text": "The hub user (id) the partner's own calls authenticate as, such "
                "as Sync Account; null for none."
            }
        }


class IntegrationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Integration
        fields = ["id", *IntegrationInputSerializer.Meta.fields, "created_at", "updated_at"]


IntegrationBriefSerializer = inline_serializer(
    name="IntegrationBrief",
    fields={"id": serializers.IntegerField(), "name": serializers.CharField()},
)


# Documented by hand: one list, two shapes (full for admin roles, {id, name} for others), so
# every field but id and name is optional.
_INTEGRATION_ITEM = {
    "type": "object",
    "required": ["id", "name"],
    "properties": {
        "id": {"type": "integer"},
        "name": {"type": "string"},
        "kind": {"type": "string", "enum": list(Integration.Kind.values)},
        "baseUrl": {"type": "string", "format": "uri"},
        "authType": {"type": "string", "enum": list(Integration.AuthType.values)},
        "tokenUrl": {"type": "string"},
        "credentialMap": {"type": "string"},
        "credentialKey": {"type": "string"},
        "enabled": {"type": "boolean"},
        "serviceUser": {"type": "integer", "nullable": True},
        "createdAt": {"type": "string", "format": "date-time"},
        "updatedAt": {"type": "string", "format": "date-time"},
    },
}
INTEGRATION_LIST_SCHEMA = {
    "type": "object",
    "required": ["count", "results"],
    "properties": {
        "count": {"type": "integer"},
        "next": {"type": "string", "nullable": True, "format": "uri"},
        "previous": {"type": "string", "nullable": True, "format": "uri"},
        "results": {"type": "array", "items": _INTEGRATION_ITEM},
    },
}


def _sees_everything(user) -> bool:
    return roles.user_has_role(user, roles.SYSTEM_ADMIN, roles.SYSTEM_CONFIG)


class IntegrationListCreateApi(APIView):
    permission_classes = [IsSystemAdminOrConfigOrReadOnly]

    @extend_schema(
        operation_id="integrations_list",
        summary="List integrations",
        description=(
            "System Admin and System Config see every integration in full; any other signed-in "
            "user sees the enabled ORGANISATION_KIT integrations (id and name) to connect to."
        ),
        responses={
            200: OpenApiResponse(
                response=INTEGRATION_LIST_SCHEMA,
                description="A page of integrations: in full for System Admin and System "
                "Config, as {id, name} for anyone else.",
            ),
            401: ERRORS[401],
        },
    )
    def get(self, request):
        paginator = PageNumberPagination()
        if _sees_everything(request.user):
            queryset = Integration.objects.order_by("id")
            page = paginator.paginate_queryset(queryset, request, view=self)
            data = IntegrationOutputSerializer(page, many=True).data
        else:
            queryset = Integration.objects.filter(
                enabled=True, kind=Integration.Kind.ORGANISATION_KIT
            ).order_by("id")
            page = paginator.paginate_queryset(queryset.values("id", "name"), request, view=self)
            data = list(page)
        return paginator.get_paginated_response(data)

    @extend_schema(
        operation_id="integrations_create",
        summary="Create an integration",
        request=IntegrationInputSerializer,
        responses={201: IntegrationOutputSerializer, **ERRORS},
    )
    def post(self, request):
        serializer = IntegrationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        integration = integration_create(acting_user=request.user, **serializer.validated_data)
        return Response(
            IntegrationOutputSerializer(integration).data, status=status.HTTP_201_CREATED
        )


class IntegrationDetailApi(APIView):
    permission_classes = [IsSystemAdminOrConfig]

    @extend_schema(
        operation_id="integrations_retrieve",
        summary="Read an integration",
        responses={200: IntegrationOutputSerializer, 401: ERRORS[401], 403: ERRORS[403], 404: None},
    )
    def get(self, request, integration_id: int):
        integration = get_object_or_404(Integration, pk=integration_id)
        return Response(IntegrationOutputSerializer(integration).data)

    @extend_schema(
        operation_id="integrations_partial_update",
        summary="Change an integration",
        request=IntegrationInputSerializer(partial=True),
        responses={200: IntegrationOutputSerializer, **ERRORS, 404: None},
    )
    def patch(self, request, integration_id: int):
        integration = get_object_or_404(Integration, pk=integration_id)
        serializer = IntegrationInputSerializer(integration, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        integration = integration_update(
            integration=integration, acting_user=request.user, **serializer.validated_data
        )
        return Response(IntegrationOutputSerializer(integration).data)

    @extend_schema(
        operation_id="integrations_destroy",
        summary="Delete an integration",
        responses={204: None, 401: ERRORS[401], 403: ERRORS[403], 404: None},
    )
    def delete(self, request, integration_id: int):
        integration = get_object_or_404(Integration, pk=integration_id)
        integration_delete(integration=integration, acting_user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CredentialInputSerializer(StrictTypesMixin, serializers.Serializer):
    """Secrets are write-only: accepted here, never returned."""

    map_name = serializers.CharField(max_length=100, default=DEFAULT_CREDENTIAL_MAP)
    key_name = serializers.CharField(max_length=100)
    client_id = serializers.CharField(max_length=500, required=False)
    client_secret = serializers.CharField(write_only=True, required=False, trim_whitespace=False)
    api_key = serializers.CharField(write_only=True, required=False)
    refresh_token = serializers.CharField(write_only=True, required=False)


class CredentialOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Credential
        fields = [
            "id",
            "map_name",
            "key_name",
            "client_id",
            "has_client_secret",
            "has_api_key",
            "has_refresh_token",
            "updated_at",
        ]


class CredentialListCreateApi(APIView):
    """The credential store. Everyone who may look sees which secrets are set, never their
    values; only System Admin saves."""

    def get_permissions(self):
        if self.request.method == "POST":
            return [IsSystemAdmin()]
        return [IsSystemAdminOrConfig()]

    @extend_schema(
        operation_id="credentials_list",
        summary="List credential store entries (which secrets are set, never their values)",
        responses={200: CredentialOutputSerializer(many=True), 401: ERRORS[401], 403: ERRORS[403]},
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            Credential.objects.order_by("map_name", "key_name"), request, view=self
        )
        return paginator.get_paginated_response(CredentialOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="credentials_save",
        summary="Save secrets into an entry (System Admin only)",
        description=(
            "Client ID and client secret are saved together or not at all; an API key or a "
            "refresh token is saved on its own. Omitted secrets keep their stored value."
        ),
        request=CredentialInputSerializer,
        responses={201: CredentialOutputSerializer, **ERRORS},
    )
    def post(self, request):
        serializer = CredentialInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        credential = credential_set(
            map_name=data["map_name"],
            key_name=data["key_name"],
            client_id=data.get("client_id"),
            client_secret=data.get("client_secret"),
            api_key=data.get("api_key"),
            refresh_token=data.get("refresh_token"),
            acting_user=request.user,
        )
        return Response(CredentialOutputSerializer(credential).data, status=status.HTTP_201_CREATED)


class CredentialDetailApi(APIView):
    permission_classes = [IsSystemAdmin]

    @extend_schema(
        operation_id="credentials_destroy",
        summary="Delete a credential store entry (System Admin only)",
        responses={204: None, 401: ERRORS[401], 403: ERRORS[403], 404: None},
    )
    def delete(self, request, credential_id: int):
        credential = get_object_or_404(Credential, pk=credential_id)
        credential_delete(
            map_name=credential.map_name, key_name=credential.key_name, acting_user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
