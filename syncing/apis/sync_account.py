"""POST /api/v1/sync-account: the organisation asks for an account sync and then an invoice
sync of every connection holding one of its customers' accounts (reference 000)."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.errors import error_responses
from integration_hub.api.strict_types import StrictTypesMixin

from ..services.triggers import sync_account_request


class SyncAccountInputSerializer(StrictTypesMixin, serializers.Serializer):
    customer_id = serializers.CharField(max_length=100)


class SyncAccountOutputSerializer(serializers.Serializer):
    customer_id = serializers.CharField()
    connection_ids = serializers.ListField(child=serializers.IntegerField())


class SyncAccountApi(APIView):
    """Permission: signed in here; the service decides who may (System Admin / System Config,
    or the service user of an integration, for that integration's connections)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="sync_account",
        summary="Sync Account: account sync, then invoice sync, of a partner customer",
        description="Called by the organisation with its integration's service user token, "
        "or by System Admin / System Config (reference 000). Queues an account sync followed "
        "by an invoice sync of every connection holding an account with this customerId "
        "whose integration is enabled (disabled integrations are never called).",
        request=SyncAccountInputSerializer,
        responses={
            202: SyncAccountOutputSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                409,
                notes={
                    403: "Not System Admin, System Config or an integration's service user.",
                    404: "No connection holds an account with this customerId.",
                    409: "The integration of every connection holding it is disabled (never "
                    "called): {'detail': 'The integration NAME is disabled.'}.",
                },
            ),
        },
    )
    def post(self, request):
        serializer = SyncAccountInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        customer_id = serializer.validated_data["customer_id"]
        connections = sync_account_request(customer_id=customer_id, acting_user=request.user)
        if not connections:
            raise exceptions.NotFound(
                f"No connection holds an account with customerId {customer_id}."
            )
        return Response(
            {"customer_id": customer_id, "connection_ids": [c.pk for c in connections]},
            status=status.HTTP_202_ACCEPTED,
        )
