"""Reference 004's operations, scoped
/Subscriber_{subscriberId}/AccountingIntegration/Type_{integrationType}/: Sync, History and
History/{id}/Resend, for the Owners of that subscriber (DESIGN.md: and superusers)."""

from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.errors import error_responses
from integration_hub.api.pagination import paginated_response

from ..models import AccountingIntegration, Packet, SyncRecord
from ..selectors import (
    accounting_integration_owned,
    has_active_record,
    record_packets,
    records_with_packets,
    sync_history,
    sync_record_of,
)
from ..services.sync import SyncConflict, packets_resend, sync_request

RETRY_AFTER_SECONDS = 5

NO_INTEGRATION = (
    "No accounting integration of this type for this subscriber (an unknown type included)."
)
OWNER_NOTES = {403: "Not an Owner of this subscriber.", 404: NO_INTEGRATION}
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
WHOLE_NUMBER = {"type": "integer", "minimum": 1}


def _page_parameters(noun: str) -> list[OpenApiParameter]:
    return [
        OpenApiParameter("page", WHOLE_NUMBER, OpenApiParameter.QUERY),
        OpenApiParameter(
            "pageSize",
            WHOLE_NUMBER,
            OpenApiParameter.QUERY,
            description=f"{noun} per page (default 50, at most 200).",
        ),
    ]


def _owned(request, subscriber_id, integration_type: str) -> AccountingIntegration:
    return accounting_integration_owned(
        user=request.user, subscriber_id=int(subscriber_id), integration_type=integration_type
    )


class PacketSerializer(serializers.ModelSerializer):
    external_id = serializers.CharField(
        help_text="The id(s) the accounting system gave the object(s) this packet created, "
        "updated or deleted (comma-separated when one object per payment); empty until sent."
    )

    class Meta:
        model = Packet
        fields = ["id", "key", "state", "response_code", "error", "external_id"]


PACKETS_IN_HISTORY = 100
PacketCountsSerializer = inline_serializer(
    name="PacketCounts",
    fields={state: serializers.IntegerField(min_value=0) for state in Packet.State.values},
)


class SyncRecordSerializer(serializers.ModelSerializer):
    """A record as History shows it: its size never grows with its packets (counts, and at
    most the first 100 packets, failed first; the rest through .../Packets)."""

    error = serializers.CharField(source="failure_reason")
    packet_count = serializers.IntegerField(source="packets_total")
    packet_counts = serializers.SerializerMethodField()
    packets = PacketSerializer(many=True, source="packets_shown")

    class Meta:
        model = SyncRecord
        fields = [
            "id",
            "status",
            "error",
            "requested_at",
            "started_at",
            "finished_at",
            "window_start",
            "window_end",
            "order_count",
            "failure_reason",
            "packet_count",
            "packet_counts",
            "packets",
        ]

    @extend_schema_field(PacketCountsSerializer)
    def get_packet_counts(self, record) -> dict:
        return {state: record.packet_counts.get(state, 0) for state in Packet.State.values}


def _history_page(records: list[SyncRecord]) -> list[SyncRecord]:
    return records_with_packets(records, limit=PACKETS_IN_HISTORY)


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
            "or modified since the last successful Sync. Poll History (at most every 5 s). "
            "Refused with 400 while the integration cannot run, which no request can change: "
            "it is disabled, its integration is disabled or not of kind ACCOUNTING, its "
            "credentials are missing, a QuickBooks, Xero or Sage integration is not connected "
            "(its Owner presses Connect on /accounting/{id}/), or its maps are invalid (each "
            "field named with its messages)."
        ),
        parameters=SCOPE_PARAMETERS,
        request=None,
        responses={
            202: SyncQueuedSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                notes={400: "The integration cannot run now (see the description).", **OWNER_NOTES},
            ),
            409: OpenApiResponse(
                SyncConflictSerializer,
                description="A Sync of this integration is already queued or running.",
            ),
        },
    )
    def post(self, request, subscriber_id, integration_type: str):
        accounting_integration = _owned(request, subscriber_id, integration_type)
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
            *_page_parameters("Records"),
        ],
        responses={
            200: OpenApiResponse(
                HistoryPageSerializer,
                description="A page of records. `Retry-After: 5` is sent while a record of "
                "this integration is queued or running.",
            ),
            **error_responses(
                400,
                401,
                403,
                404,
                notes={
                    **OWNER_NOTES,
                    400: "`since`, `page` or `pageSize` is not valid.",
                    404: f"{NO_INTEGRATION} Or the page is past the last one.",
                },
            ),
        },
    )
    def get(self, request, subscriber_id, integration_type: str):
        accounting_integration = _owned(request, subscriber_id, integration_type)
        since = _since(request.query_params.get("since"))
        response = paginated_response(
            request,
            sync_history(accounting_integration=accounting_integration, since=since),
            view=self,
            serializer_class=SyncRecordSerializer,
            prepare=_history_page,
        )
        if has_active_record(accounting_integration):
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response


def _since(value: str | None) -> datetime | None:
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
    try:
        return since.astimezone(UTC)
    except OverflowError:
        # An offset at either end of the calendar (0001-01-01T00:00+01:00) falls outside
        # what a datetime holds, and would overflow in the query: it is still before (or
        # after) every record.
        return (
            datetime.min.replace(tzinfo=UTC)
            if since.year == 1
            else datetime.max.replace(tzinfo=UTC)
        )


class ResendApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="accounting_history_resend",
        summary="Resend the failed packets of a SyncRecord with the current maps",
        description=(
            "Maps the record's Failed packets again and queues them for delivery, with the "
            "Pending ones no delivery in progress holds (`packetCount` may be 0: packets "
            "still lacking a map stay Failed). A body the maps changed gets a new idempotency "
            "key. Refused with 400 when the record did not finish with Success."
        ),
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter("sync_record_id", OpenApiTypes.INT, OpenApiParameter.PATH),
        ],
        request=None,
        responses={
            202: ResendQueuedSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                notes={
                    **OWNER_NOTES,
                    400: "The record did not finish with Success.",
                    404: f"{NO_INTEGRATION} Or no such record in this history.",
                },
            ),
        },
    )
    def post(self, request, subscriber_id, integration_type: str, sync_record_id):
        accounting_integration = _owned(request, subscriber_id, integration_type)
        record = sync_record_of(
            accounting_integration=accounting_integration, sync_record_id=int(sync_record_id)
        )
        queued = packets_resend(sync_record=record, acting_user=request.user)
        return Response(
            {"sync_record_id": record.pk, "packet_count": queued},
            status=status.HTTP_202_ACCEPTED,
        )


PacketPageSerializer = inline_serializer(
    name="PacketPage",
    fields={
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": PacketSerializer(many=True),
    },
)


class PacketListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="accounting_history_packets",
        summary="Every packet of a SyncRecord, failed first then by key",
        parameters=[
            *SCOPE_PARAMETERS,
            OpenApiParameter("sync_record_id", OpenApiTypes.INT, OpenApiParameter.PATH),
            OpenApiParameter(
                "state",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                enum=Packet.State.values,
                description="Only packets in this state.",
            ),
            *_page_parameters("Packets"),
        ],
        responses={
            200: PacketPageSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                notes={
                    **OWNER_NOTES,
                    400: "`state`, `page` or `pageSize` is not valid.",
                    404: f"{NO_INTEGRATION} Or no such record in this history, or the page "
                    "is past the last one.",
                },
            ),
        },
    )
    def get(self, request, subscriber_id, integration_type: str, sync_record_id):
        accounting_integration = _owned(request, subscriber_id, integration_type)
        record = sync_record_of(
            accounting_integration=accounting_integration, sync_record_id=int(sync_record_id)
        )
        states = request.query_params.getlist("state")
        if len(states) > 1 or (states and states[0] not in Packet.State.values):
            raise exceptions.ValidationError(
                {"state": [f"One of {', '.join(Packet.State.values)}."]}
            )
        return paginated_response(
            request,
            record_packets(sync_record=record, state=states[0] if states else None),
            view=self,
            serializer_class=PacketSerializer,
        )
