"""REST API of integrations, the outbound endpoints (DESIGN.md, "REST API"). System Admin and
System Config manage them; anyone signed in may list the enabled Organisation Kit ones."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub import roles
from integration_hub.api.errors import WRITE_ERROR_CODES, error_responses
from integration_hub.api.exceptions import serializer_validated
from integration_hub.api.pagination import paginated_response
from integration_hub.api.permissions import IsSystemAdminOrConfig, IsSystemAdminOrConfigOrReadOnly
from integration_hub.api.strict_types import StrictTypesMixin
from integration_hub.models import Integration
from integration_hub.services.integrations import (
    INTEGRATION_FIELDS,
    integration_create,
    integration_delete,
    integration_update,
)

CROSS_FIELD_RULES = (
    "Refused with 400 (rules across values or beyond the body): OAUTH2_CLIENT_CREDENTIALS or "
    "OAUTH2_REFRESH_TOKEN without tokenUrl (OAUTH2_AUTHORIZATION_CODE may leave tokenUrl and "
    "authorizeUrl blank: the connecting accounting type's defaults); an auth type other than "
    "NONE without credentialKey; a baseUrl, tokenUrl, authorizeUrl or revokeUrl whose host"
    " resolves to a private, loopback or link-local address (unless the hub allows "
    "private networks), or that Django's URL validator refuses (a host without a dot, a label "
    "over 63 characters). A name that another integration has is 409; a serviceUser that "
    "names no user is 404."
)
WRITE_ERRORS = error_responses(
    *WRITE_ERROR_CODES,
    notes={
        403: "The role does not allow this; or a field that decides where a secret goes "
        "(baseUrl, tokenUrl, authorizeUrl, revokeUrl, scope, authType, credentialMap, "
        "credentialKey) set, changed or cleared "
        "by anyone but System Admin, each such field named: {'tokenUrl': ['Only System Admin "
        "may decide where a secret goes.']}. Sending a field's current value is allowed.",
        404: "No such integration, or serviceUser names no user: {'serviceUser': [...]}.",
        409: "Another integration has that name: {'name': [...]}.",
    },
)


class IntegrationInputSerializer(StrictTypesMixin, serializers.ModelSerializer):
    class Meta:
        model = Integration
        fields = list(INTEGRATION_FIELDS)
        extra_kwargs = {
            "service_user": {
                "help_text": "The hub user (id) the partner's own calls authenticate as, such "
                "as Sync Account; null for none."
            }
        }


class IntegrationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Integration
        fields = ["id", *INTEGRATION_FIELDS, "created_at", "updated_at"]


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
        "authorizeUrl": {"type": "string"},
        "revokeUrl": {"type": "string"},
        "scope": {"type": "string"},
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


def _integration_of_path(integration_id: int) -> Integration:
    return get_object_or_404(Integration, pk=integration_id)


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
            **error_responses(401),
        },
    )
    def get(self, request):
        if roles.user_has_role(request.user, roles.SYSTEM_ADMIN, roles.SYSTEM_CONFIG):
            return paginated_response(
                request,
                Integration.objects.order_by("id"),
                view=self,
                serializer_class=IntegrationOutputSerializer,
            )
        connectable = Integration.objects.filter(
            enabled=True, kind=Integration.Kind.ORGANISATION_KIT
        ).order_by("id")
        return paginated_response(request, connectable.values("id", "name"), view=self)

    @extend_schema(
        operation_id="integrations_create",
        summary="Create an integration",
        description=CROSS_FIELD_RULES,
        request=IntegrationInputSerializer,
        responses={201: IntegrationOutputSerializer, **WRITE_ERRORS},
    )
    def post(self, request):
        data = serializer_validated(IntegrationInputSerializer(data=request.data))
        integration = integration_create(acting_user=request.user, **data)
        return Response(
            IntegrationOutputSerializer(integration).data, status=status.HTTP_201_CREATED
        )


class IntegrationDetailApi(APIView):
    permission_classes = [IsSystemAdminOrConfig]

    @extend_schema(
        operation_id="integrations_retrieve",
        summary="Read an integration",
        responses={200: IntegrationOutputSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, integration_id: int):
        return Response(IntegrationOutputSerializer(_integration_of_path(integration_id)).data)

    @extend_schema(
        operation_id="integrations_partial_update",
        summary="Change an integration",
        description=CROSS_FIELD_RULES,
        request=IntegrationInputSerializer(partial=True),
        responses={200: IntegrationOutputSerializer, **WRITE_ERRORS},
    )
    def patch(self, request, integration_id: int):
        integration = _integration_of_path(integration_id)
        data = serializer_validated(
            IntegrationInputSerializer(integration, data=request.data, partial=True)
        )
        integration = integration_update(integration=integration, acting_user=request.user, **data)
        return Response(IntegrationOutputSerializer(integration).data)

    @extend_schema(
        operation_id="integrations_destroy",
        summary="Delete an integration",
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request, integration_id: int):
        integration_delete(
            integration=_integration_of_path(integration_id), acting_user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
