"""The user's verified identities and the integration's BankID flow (reference 001), under
/api/v1/identities/. The partner is called outside any transaction."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.pagination import PageNumberPagination
from integration_hub.api.strict_types import StrictTypesMixin
from integration_hub.models import Integration

from .models import VerifiedIdentity
from .organisation_kit import PartnerError
from .selectors import organisation_kit_integrations
from .services.identities import (
    IdentityFlowFailed,
    identity_bankid_collect,
    identity_bankid_start,
)

ERRORS = {
    400: OpenApiResponse(description="Invalid input, or not an enabled Organisation Kit."),
    401: OpenApiResponse(description="No or bad credentials."),
    502: OpenApiResponse(description="The partner's BankID call failed."),
}


class PartnerUnavailable(APIException):
    status_code = 502
    default_detail = "The partner's identity service failed."
    default_code = "partner_error"


class IdentityOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = VerifiedIdentity
        fields = ["id", "kind", "value", "method", "verified_at"]


class BankIdStartInputSerializer(StrictTypesMixin, serializers.Serializer):
    integration = serializers.IntegerField(min_value=1)
    personal_number = serializers.RegexField(r"^[0-9]{10,12}$", max_length=12)


class BankIdStartOutputSerializer(serializers.Serializer):
    order_ref = serializers.CharField()


class BankIdCollectInputSerializer(StrictTypesMixin, serializers.Serializer):
    integration = serializers.IntegerField(min_value=1)
    order_ref = serializers.CharField(max_length=100)


class BankIdCollectOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending", "complete", "failed"])
    identity = IdentityOutputSerializer(allow_null=True)


def _integration(integration_id: int) -> Integration:
    integration = organisation_kit_integrations().filter(pk=integration_id).first()
    if integration is None:
        raise ValidationError(
            {"integration": ["No enabled Organisation Kit integration with that id."]}
        )
    return integration


class IdentityListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="identities_list",
        summary="Your verified identities",
        responses={200: IdentityOutputSerializer(many=True), 401: ERRORS[401]},
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            VerifiedIdentity.objects.filter(user=request.user).order_by("id"), request, view=self
        )
        return paginator.get_paginated_response(IdentityOutputSerializer(page, many=True).data)


class BankIdStartApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="identities_bankid_start",
        summary="Start BankID at an Organisation Kit integration",
        description="Then open BankID and sign, and collect with the orderRef until complete.",
        request=BankIdStartInputSerializer,
        responses={201: BankIdStartOutputSerializer, **ERRORS},
    )
    def post(self, request):
        serializer = BankIdStartInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        integration = _integration(serializer.validated_data["integration"])
        try:
            order_ref = identity_bankid_start(
                user=request.user,
                integration=integration,
                personal_number=serializer.validated_data["personal_number"],
            )
        except PartnerError as exc:
            raise PartnerUnavailable(f"BankID start failed: {exc.kind}.") from None
        return Response({"order_ref": order_ref}, status=status.HTTP_201_CREATED)


class BankIdCollectApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="identities_bankid_collect",
        summary="Collect a BankID order: pending, complete (with your verified identity) or failed",
        request=BankIdCollectInputSerializer,
        responses={200: BankIdCollectOutputSerializer, **ERRORS},
    )
    def post(self, request):
        serializer = BankIdCollectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        integration = _integration(serializer.validated_data["integration"])
        try:
            identity = identity_bankid_collect(
                user=request.user,
                integration=integration,
                order_ref=serializer.validated_data["order_ref"],
            )
        except IdentityFlowFailed:
            return Response({"status": "failed", "identity": None})
        except PartnerError as exc:
            raise PartnerUnavailable(f"BankID collect failed: {exc.kind}.") from None
        if identity is None:
            return Response({"status": "pending", "identity": None})
        return Response({"status": "complete", "identity": IdentityOutputSerializer(identity).data})
