"""REST API of the accounting export (DESIGN.md, "Accounting"; reference 004).

- /api/v1/accounting-integrations/: System Admin and System Config manage integrations and
  their maps.
- /Subscriber_{subscriberId}/AccountingIntegration/Type_{integrationType}/Sync, .../History
  and .../History/{id}/Resend: the Owner of that subscriber (or a superuser) only.
"""

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub import roles
from integration_hub.api.pagination import PageNumberPagination
from integration_hub.api.permissions import IsSystemAdminOrConfig
from integration_hub.api.strict_types import StrictTypesMixin
from integration_hub.models import Integration, Subscriber

from .models import AccountingIntegration, AccountingMap, Packet, SyncRecord
from .selectors import accounting_integration_find, has_active_record, sync_history
from .services.integrations import (
    accounting_integration_create,
    accounting_integration_delete,
    accounting_integration_update,
)
from .services.sync import SyncConflict, packets_resend, sync_request

RETRY_AFTER_SECONDS = 5

ERRORS = {
    400: OpenApiResponse(description="Invalid input: each field named with its messages."),
    401: OpenApiResponse(description="No or bad credentials."),
    403: OpenApiResponse(description="The role does not allow this."),
    404: OpenApiResponse(description="No such accounting integration."),
}
OWNER_ERRORS = {
    401: ERRORS[401],
    403: OpenApiResponse(description="Not an Owner of this subscriber."),
    404: OpenApiResponse(
        description="No accounting integration of this type for this subscriber "
        "(an unknown type included)."
    ),
}
SCOPE_PARAMETERS = [
    OpenApiParameter("subscriber_id", OpenApiTypes.INT, OpenApiParameter.PATH),
    OpenApiParameter(
        "integration_type",
        OpenApiTypes.STR,
        OpenApiParameter.PATH,
        enum=AccountingIntegration.IntegrationType.values,
        description="EAccountingIntegrationType (reference 004).",
    ),
]


# ---- /api/v1/accounting-integrations/ ------------------------------------------------------


class MapSerializer(StrictTypesMixin, serializers.Serializer):
    kind = serializers.ChoiceField(choices=AccountingMap.Kind.choices)
    source = serializers.CharField(max_length=100, allow_blank=True)
    target = serializers.CharField(max_length=100, allow_blank=True)


class AccountingIntegrationInputSerializer(StrictTypesMixin, serializers.Serializer):
    subscriber_id = serializers.IntegerField(min_value=1)
    integration_type = serializers.ChoiceField(
        choices=AccountingIntegration.IntegrationType.choices
    )
    integration = serializers.PrimaryKeyRelatedField(
        queryset=Integration.objects.all(), help_text="Id of an ACCOUNTING integration."
    )
    summarize_data = serializers.BooleanField(default=False)
    enabled = serializers.BooleanField(default=True)
    maps = MapSerializer(many=True, default=list)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(_rows_named(exc.detail)) from None

    def validate_subscriber_id(self, value):
        subscriber = Subscriber.objects.filter(pk=value).first()
        if subscriber is None:
            raise serializers.ValidationError(f"No subscriber {value}.")
        return subscriber


def _rows_named(detail):
    """Errors of the maps rows as "Row N: field: message" (rows count from 1)."""
    if not isinstance(detail, dict) or "maps" not in detail:
        return detail
    rows = detail["maps"]
    messages = []
    if isinstance(rows, dict):  # DRF gives {index: errors} for the rows that failed
        by_index = {int(i): errors for i, errors in rows.items() if str(i).isdecimal()}
        for key, errors in rows.items():
            if not str(key).isdecimal():
                messages.extend(str(message) for message in errors)
        rows = [by_index.get(n, {}) for n in range(max(by_index, default=-1) + 1)]
    for row_number, row_errors in enumerate(rows, start=1):
        if isinstance(row_errors, dict):
            for field, field_errors in row_errors.items():
                for message in field_errors:
                    messages.append(f"Row {row_number}: {field}: {message}")
        elif row_errors:
            messages.append(str(row_errors))
    return {**detail, "maps": messages}


class MapOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = AccountingMap
        fields = ["kind", "source", "target"]


class AccountingIntegrationOutputSerializer(serializers.ModelSerializer):
    subscriber_id = serializers.IntegerField()
    integration = serializers.IntegerField(source="integration_id")
    maps = MapOutputSerializer(many=True)

    class Meta:
        model = AccountingIntegration
        fields = [
            "id",
            "subscriber_id",
            "integration_type",
            "integration",
            "summarize_data",
            "enabled",
            "maps",
            "created_at",
            "updated_at",
        ]


def _accounting_integrations():
    return AccountingIntegration.objects.prefetch_related("maps").order_by("id")


def _create_fields(data: dict) -> dict:
    fields = dict(data)
    if "subscriber_id" in fields:
        fields["subscriber"] = fields.pop("subscriber_id")
    return fields


class AccountingIntegrationListCreateApi(APIView):
    permission_classes = [IsSystemAdminOrConfig]

    @extend_schema(
        operation_id="accounting_integrations_list",
        summary="List accounting integrations with their maps",
        responses={
            200: AccountingIntegrationOutputSerializer(many=True),
            401: ERRORS[401],
            403: ERRORS[403],
        },
    )
    def get(self, request):
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(_accounting_integrations(), request, view=self)
        return paginator.get_paginated_response(
            AccountingIntegrationOutputSerializer(page, many=True).data
        )

    @extend_schema(
        operation_id="accounting_integrations_create",
        summary="Create an accounting integration with its maps",
        description=(
            "One per subscriber and integration type. Invalid maps (duplicate source, unknown "
            'kind, empty target) are refused with 400, each message naming its row: `{"maps": '
            "[\"Row 3: PAYMENT_METHOD source 'VISA' is mapped already in row 1.\"]}`."
        ),
        request=AccountingIntegrationInputSerializer,
        responses={201: AccountingIntegrationOutputSerializer, **ERRORS},
    )
    def post(self, request):
        serializer = AccountingIntegrationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        accounting_integration = accounting_integration_create(
            acting_user=request.user, **_create_fields(serializer.validated_data)
        )
        return Response(
            AccountingIntegrationOutputSerializer(accounting_integration).data,
            status=status.HTTP_201_CREATED,
        )


class AccountingIntegrationDetailApi(APIView):
    permission_classes = [IsSystemAdminOrConfig]

    @extend_schema(
        operation_id="accounting_integrations_retrieve",
        summary="Read an accounting integration",
        responses={200: AccountingIntegrationOutputSerializer, **ERRORS},
    )
    def get(self, request, accounting_integration_id: int):
        accounting_integration = get_object_or_404(
            _accounting_integrations(), pk=accounting_integration_id
        )
        return Response(AccountingIntegrationOutputSerializer(accounting_integration).data)

    @extend_schema(
        operation_id="accounting_integrations_partial_update",
        summary="Change an accounting integration (maps, when given, replace all maps)",
        request=AccountingIntegrationInputSerializer(partial=True),
        responses={200: AccountingIntegrationOutputSerializer, **ERRORS},
    )
    def patch(self, request, accounting_integration_id: int):
        accounting_integration = get_object_or_404(
            AccountingIntegration, pk=accounting_integration_id
        )
        serializer = AccountingIntegrationInputSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        accounting_integration = accounting_integration_update(
            accounting_integration=accounting_integration,
            acting_user=request.user,
            **_create_fields(serializer.validated_data),
        )
        accounting_integration = _accounting_integrations().get(pk=accounting_integration.pk)
        return Response(AccountingIntegrationOutputSerializer(accounting_integration).data)

    @extend_schema(
        operation_id="accounting_integrations_destroy",
        summary="Delete an accounting integration, its maps and its history",
        responses={204: None, 401: ERRORS[401], 403: ERRORS[403], 404: ERRORS[404]},
    )
    def delete(self, request, accounting_integration_id: int):
        accounting_integration = get_object_or_404(
            AccountingIntegration, pk=accounting_integration_id
        )
        accounting_integration_delete(
            accounting_integration=accounting_integration, acting_user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# ---- /Subscriber_{subscriberId}/AccountingIntegration/Type_{integrationType}/... ----------


def accounting_integration_for_owner(
    request, subscriber_id: int, integration_type: str
) -> AccountingIntegration:
    """reference 004: only an Owner of that subscriber (DESIGN.md: or a superuser); then
    404 when the subscriber has no integration of that type (an unknown type included)."""
    user = request.user
    is_owner = user.is_superuser or (
        roles.user_has_role(user, roles.OWNER)
        and Subscriber.objects.filter(pk=subscriber_id, owners__user=user).exists()
    )
    if not is_owner:
        raise exceptions.PermissionDenied(f"You are not an Owner of subscriber {subscriber_id}.")
    accounting_integration = accounting_integration_find(
        subscriber_id=subscriber_id, integration_type=integration_type
    )
    if accounting_integration is None:
        raise exceptions.NotFound(
            f"Subscriber {subscriber_id} has no {integration_type} accounting integration."
        )
    return accounting_integration


class PacketSerializer(serializers.ModelSerializer):
    class Meta:
        model = Packet
        fields = ["id", "key", "state", "response_code", "error"]


class SyncRecordSerializer(serializers.ModelSerializer):
    packets = PacketSerializer(many=True)

    class Meta:
        model = SyncRecord
        fields = [
            "id",
            "status",
            "requested_at",
            "started_at",
            "finished_at",
            "window_start",
            "window_end",
            "order_count",
            "failure_reason",
            "packets",
        ]


SyncQueuedSerializer = inline_serializer(
    name="SyncQueued",
    fields={
        "sync_record_id": serializers.IntegerField(),
        "status": serializers.ChoiceField(choices=SyncRecord.Status.choices),
    },
)
SyncConflictSerializer = inline_serializer(
    name="SyncConflict",
    fields={
        "detail": serializers.CharField(),
        "sync_record_id": serializers.IntegerField(allow_null=True),
        "status": serializers.ChoiceField(choices=SyncRecord.Status.choices, allow_null=True),
    },
)
HistoryPageSerializer = inline_serializer(
    name="SyncHistoryPage",
    fields={
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": SyncRecordSerializer(many=True),
    },
)
ResendQueuedSerializer = inline_serializer(
    name="ResendQueued",
    fields={
        "sync_record_id": serializers.IntegerField(),
        "packet_count": serializers.IntegerField(),
    },
)


class SyncApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="accounting_sync",
        summary="Start a Sync of orders to the accounting integration",
        description=(
            "reference 004 AccountingIntegration/Sync: queues the export of the orders created "
            "or modified since the last successful Sync. Poll History (at most every 5 s)."
        ),
        parameters=SCOPE_PARAMETERS,
        request=None,
        responses={
            202: SyncQueuedSerializer,
            400: OpenApiResponse(
                description="The integration fails validation: disabled, no credentials, bad "
                "maps (each field named with its messages)."
            ),
            **OWNER_ERRORS,
            409: OpenApiResponse(
                SyncConflictSerializer,
                description="A Sync of this integration is already queued or running.",
            ),
        },
    )
    def post(self, request, subscriber_id: int, integration_type: str):
        accounting_integration = accounting_integration_for_owner(
            request, int(subscriber_id), integration_type
        )
        try:
            record = sync_request(
                accounting_integration=accounting_integration, acting_user=request.user
            )
        except SyncConflict as conflict:
            running = conflict.record
            return Response(
                {
                    "detail": str(conflict),
                    "sync_record_id": running.pk if running else None,
                    "status": running.status if running else None,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(
            {"sync_record_id": record.pk, "status": record.status},
            status=status.HTTP_202_ACCEPTED,
        )


class HistoryApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="accounting_history",
        summary="History of sent data: SyncRecords newest first, with their packets",
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter(
                "since",
                OpenApiTypes.DATETIME,
                OpenApiParameter.QUERY,
                description="Only records requested at or after this ISO-8601 time.",
            ),
            OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY),
            OpenApiParameter(
                "pageSize",
                OpenApiTypes.INT,
                OpenApiParameter.QUERY,
                description="Records per page (default 50, at most 200).",
            ),
        ],
        responses={
            200: OpenApiResponse(
                HistoryPageSerializer,
                description="A page of records. `Retry-After: 5` is sent while a record of "
                "this integration is queued or running.",
            ),
            400: OpenApiResponse(description="`since`, `page` or `pageSize` is not valid."),
            **OWNER_ERRORS,
        },
    )
    def get(self, request, subscriber_id: int, integration_type: str):
        accounting_integration = accounting_integration_for_owner(
            request, int(subscriber_id), integration_type
        )
        since = _since(request.query_params.get("since"))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            sync_history(accounting_integration=accounting_integration, since=since),
            request,
            view=self,
        )
        response = paginator.get_paginated_response(SyncRecordSerializer(page, many=True).data)
        if has_active_record(accounting_integration):
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def _since(value: str | None):
    if value is None:
        return None
    try:
        since = parse_datetime(value)
    except ValueError:
        since = None
    if since is None:
        raise exceptions.ValidationError(
            {"since": ["Give an ISO-8601 date and time, e.g. 2026-11-20T00:00:00Z."]}
        )
    if timezone.is_naive(since):
        since = timezone.make_aware(since)
    return since


class ResendApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="accounting_history_resend",
        summary="Resend the failed packets of a SyncRecord with the current maps",
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter("sync_record_id", OpenApiTypes.INT, OpenApiParameter.PATH),
        ],
        request=None,
        responses={
            202: ResendQueuedSerializer,
            400: OpenApiResponse(description="The record did not finish with Success."),
            **OWNER_ERRORS,
        },
    )
    def post(self, request, subscriber_id: int, integration_type: str, sync_record_id: int):
        accounting_integration = accounting_integration_for_owner(
            request, int(subscriber_id), integration_type
        )
        record = SyncRecord.objects.filter(
            pk=sync_record_id, accounting_integration=accounting_integration
        ).first()
        if record is None:
            raise exceptions.NotFound(f"No sync record {sync_record_id} in this history.")
        queued = packets_resend(sync_record=record, acting_user=request.user)
        return Response(
            {"sync_record_id": record.pk, "packet_count": queued},
            status=status.HTTP_202_ACCEPTED,
        )
