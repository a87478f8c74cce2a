"""REST API of the core: integrations (DESIGN.md, "REST API")."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub import roles
from integration_hub.api.pagination import PageNumberPagination
from integration_hub.api.permissions import IsSystemAdminOrConfig, IsSystemAdminOrConfigOrReadOnly
from integration_hub.models import Integration
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


class IntegrationInputSerializer(serializers.ModelSerializer):
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
        ]


class IntegrationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Integration
        fields = ["id", *IntegrationInputSerializer.Meta.fields, "created_at", "updated_at"]


IntegrationBriefSerializer = inline_serializer(
    name="IntegrationBrief",
    fields={"id": serializers.IntegerField(), "name": serializers.CharField()},
)


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
        responses={200: IntegrationOutputSerializer(many=True), 401: ERRORS[401]},
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
