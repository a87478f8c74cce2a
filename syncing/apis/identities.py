"""The user's verified identities and the integration's BankID flow (reference 001), under
/api/v1/identities/. The partner is called outside any transaction."""

from contextlib import contextmanager

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.errors import error_responses
from integration_hub.api.ids import ID_MAXIMUM
from integration_hub.api.pagination import paginated_response
from integration_hub.api.strict_types import StrictTypesMixin

from ..models import IdentityVerification, VerifiedIdentity
from ..organisation_kit import PartnerError
from ..selectors import identities_with_verifications, identity_validity
from ..services.connections import integration_connectable
from ..services.identities import (
    IdentityFlowFailed,
    identity_bankid_collect,
    identity_bankid_start,
)
from .connections import PERSONAL_NUMBER, integration_errors

BANKID_ERRORS = error_responses(
    400,
    401,
    404,
    409,
    502,
    notes={
        400: "Invalid input, or not an Organisation Kit integration.",
        404: "No integration with that id: {'integration': [...]}.",
        409: "The integration is disabled.",
        502: "The partner's BankID call failed.",
    },
)


class PartnerUnavailable(APIException):
    status_code = 502
    default_detail = "The partner's identity service failed."
    default_code = "partner_error"


class VerificationOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = IdentityVerification
        fields = ["method", "integration", "provider", "verified_at"]


class IdentityOutputSerializer(serializers.ModelSerializer):
    """An identity, who verified it, and what it counts for: every Organisation Kit
    integration (`validForAll`) or those of `validFor`."""

    verifications = serializers.SerializerMethodField()
    valid_for_all = serializers.SerializerMethodField()
    valid_for = serializers.SerializerMethodField()

    class Meta:
        model = VerifiedIdentity
        fields = [
            "id",
            "kind",
            "value",
            "verified_at",
            "verifications",
            "valid_for_all",
            "valid_for",
        ]

    def _validity(self, identity):
        cache = self.context.setdefault("validity", {})
        if identity.pk not in cache:
            cache[identity.pk] = identity_validity(identity)
        return cache[identity.pk]

    @extend_schema_field(VerificationOutputSerializer(many=True))
    def get_verifications(self, identity):
        return VerificationOutputSerializer(self._validity(identity).verifications, many=True).data

    def get_valid_for_all(self, identity) -> bool:
        return self._validity(identity).is_for_all

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_valid_for(self, identity):
        return [integration.pk for integration in self._validity(identity).integrations]


class BankIdStartInputSerializer(StrictTypesMixin, serializers.Serializer):
    integration = serializers.IntegerField(min_value=1, max_value=ID_MAXIMUM)
    personal_number = serializers.RegexField(PERSONAL_NUMBER, max_length=12)


class BankIdStartOutputSerializer(serializers.Serializer):
    order_ref = serializers.CharField()


class BankIdCollectInputSerializer(StrictTypesMixin, serializers.Serializer):
    integration = serializers.IntegerField(min_value=1, max_value=ID_MAXIMUM)
    order_ref = serializers.CharField(max_length=100)


class BankIdCollectOutputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["pending", "complete", "failed"])
    identity = IdentityOutputSerializer(allow_null=True)


@contextmanager
def _bankid(request, serializer_class, what: str):
    """The valid input with its integration, and a partner failure as a 502 naming `what`."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    with integration_errors():
        integration = integration_connectable(
            integration_id=serializer.validated_data["integration"]
        )
    try:
        yield serializer.validated_data, integration
    except PartnerError as exc:
        raise PartnerUnavailable(f"{what} failed: {exc.kind}.") from None


class IdentityListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="identities_list",
        summary="Your verified identities",
        responses={
            200: IdentityOutputSerializer(many=True),
            **error_responses(
                400, 401, 404, notes={400: "A bad page or pageSize.", 404: "A page past the last."}
            ),
        },
    )
    def get(self, request):
        identities = identities_with_verifications(user=request.user).order_by("id")
        return paginated_response(
            request, identities, view=self, serializer_class=IdentityOutputSerializer
        )


class BankIdStartApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="identities_bankid_start",
        summary="Start BankID at an Organisation Kit integration",
        description="Then open BankID and sign, and collect with the orderRef until complete.",
        request=BankIdStartInputSerializer,
        responses={201: BankIdStartOutputSerializer, **BANKID_ERRORS},
    )
    def post(self, request):
        with _bankid(request, BankIdStartInputSerializer, "BankID start") as (data, integration):
            order_ref = identity_bankid_start(
                user=request.user, integration=integration, personal_number=data["personal_number"]
            )
        return Response({"order_ref": order_ref}, status=status.HTTP_201_CREATED)


class BankIdCollectApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="identities_bankid_collect",
        summary="Collect a BankID order: pending, complete (with your verified identity) or failed",
        request=BankIdCollectInputSerializer,
        responses={200: BankIdCollectOutputSerializer, **BANKID_ERRORS},
    )
    def post(self, request):
        with _bankid(request, BankIdCollectInputSerializer, "BankID collect") as (
            data,
            integration,
        ):
            try:
                identity = identity_bankid_collect(
                    user=request.user, integration=integration, order_ref=data["order_ref"]
                )
            except IdentityFlowFailed:
                return Response({"status": "failed", "identity": None})
        if identity is None:
            return Response({"status": "pending", "identity": None})
        return Response({"status": "complete", "identity": IdentityOutputSerializer(identity).data})
