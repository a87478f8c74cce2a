"""/api/v1/accounting-integrations/: System Admin and System Config manage accounting
integrations and their maps (DESIGN.md, "Accounting")."""

from django.core.validators import RegexValidator
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.errors import WRITE_ERROR_CODES, error_responses
from integration_hub.api.ids import ID_MAXIMUM
from integration_hub.api.pagination import paginated_response
from integration_hub.api.permissions import IsSystemAdminOrConfig
from integration_hub.api.strict_types import StrictTypesMixin
from integration_hub.models import Integration, Subscriber

from ..models import AccountingIntegration, AccountingMap
from ..services.integrations import (
    accounting_integration_create,
    accounting_integration_delete,
    accounting_integration_update,
)

# The rules a schema cannot express (they tie fields or rows together): refused with 400.
CROSS_FIELD_RULES = (
    "Refused with 400, each message naming its row or field, because the schema cannot say "
    "so: a TAX_RATE map's source must be a number from 0 to below 1 (it is stored as "
    '"0.0800"); no two maps of one kind may have the same source (0.08 and 0.0800 are the '
    "same tax rate); `integration` must be an ACCOUNTING integration. For example "
    '`{"maps": ["Row 3: PAYMENT_METHOD source \'VISA\' is mapped already in row 1."]}`.'
)
# Declared so that the schema says it (DRF refuses blanks and null characters on its own).
NOT_BLANK = RegexValidator(
    r"^[^\x00]*[^\s\x00][^\x00]*$",
    "Must contain a character other than spaces, and no null character.",
)
NAMES_NOTHING = (
    "`subscriberId` or `integration` names nothing; the body names the field: "
    '`{"subscriberId": ["No subscriber 5."]}`.'
)
EXISTS = "The subscriber already has an accounting integration of this type."
ROUTING_REFUSED = (
    "The role does not allow this; or `integration` (it decides where the accounting "
    "system's credential goes) or `tenantId` (whose books receive the sales) set, or either "
    "or `subscriberId` (whose sales go there) changed, by anyone but System Admin (sending "
    "the current value is allowed): "
    '`{"integration": ["Only System Admin may decide where a secret goes."]}`.'
)
ID_PARAMETER = OpenApiParameter(
    "accounting_integration_id", OpenApiTypes.INT, OpenApiParameter.PATH
)


class MapSerializer(StrictTypesMixin, serializers.Serializer):
    """One mapping rule: a value of the sales data (`source`) becomes an account or code of
    the accounting system (`target`)."""

    kind = serializers.ChoiceField(choices=AccountingMap.Kind.choices)
    source = serializers.CharField(max_length=100, validators=[NOT_BLANK])
    target = serializers.CharField(max_length=100, validators=[NOT_BLANK])


class AccountingIntegrationInputSerializer(StrictTypesMixin, serializers.Serializer):
    """An accounting integration: the subscriber's export of one integration type to an
    ACCOUNTING integration, with its maps."""

    subscriber_id = serializers.IntegerField(min_value=1)
    integration_type = serializers.ChoiceField(
        choices=AccountingIntegration.IntegrationType.choices
    )
    integration = serializers.IntegerField(
        min_value=1, help_text="Id of an ACCOUNTING integration."
    )
    summarize_data = serializers.BooleanField(default=False)
    enabled = serializers.BooleanField(default=True)
    tenant_id = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        help_text="The company in the accounting system (QuickBooks realmId, Xero tenant id, "
        "Sage business id); Connect fills it. Only System Admin sets or changes it.",
    )
    maps = MapSerializer(many=True, default=list)

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(_rows_named(exc.detail)) from None


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
    connected = serializers.BooleanField(
        source="is_connected",
        read_only=True,
        help_text="Whether the subscriber's Owner has connected the accounting system "
        "(QuickBooks, Xero, Sage sync only when connected).",
    )
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
            "tenant_id",
            "connected",
            "maps",
            "created_at",
            "updated_at",
        ]


def _accounting_integrations():
    return AccountingIntegration.objects.prefetch_related("maps").order_by("id")


def _named(model, pk: int, *, field: str, noun: str):
    """The object an id in the body names, or 404 naming the field. An id beyond the
    database's range names nothing and never reaches a query."""
    found = model.objects.filter(pk=pk).first() if pk <= ID_MAXIMUM else None
    if found is None:
        raise exceptions.NotFound({field: [f"No {noun} {pk}."]})
    return found


def _service_fields(data: dict) -> dict:
    """The validated body as the services take it: the subscriber and the integration it
    names, as objects."""
    fields = dict(data)
    if "subscriber_id" in fields:
        fields["subscriber"] = _named(
            Subscriber, fields.pop("subscriber_id"), field="subscriberId", noun="subscriber"
        )
    if "integration" in fields:
        fields["integration"] = _named(
            Integration, fields["integration"], field="integration", noun="integration"
        )
    return fields


class AccountingIntegrationListCreateApi(APIView):
    permission_classes = [IsSystemAdminOrConfig]

    @extend_schema(
        operation_id="accounting_integrations_list",
        summary="List accounting integrations with their maps",
        responses={
            200: AccountingIntegrationOutputSerializer(many=True),
            **error_responses(401, 403),
        },
    )
    def get(self, request):
        return paginated_response(
            request,
            _accounting_integrations(),
            view=self,
            serializer_class=AccountingIntegrationOutputSerializer,
        )

    @extend_schema(
        operation_id="accounting_integrations_create",
        summary="Create an accounting integration with its maps",
        description=f"One per subscriber and integration type (another one is 409). "
        f"{CROSS_FIELD_RULES}",
        request=AccountingIntegrationInputSerializer,
        responses={
            201: AccountingIntegrationOutputSerializer,
            **error_responses(
                *WRITE_ERROR_CODES, notes={403: ROUTING_REFUSED, 404: NAMES_NOTHING, 409: EXISTS}
            ),
        },
    )
    def post(self, request):
        serializer = AccountingIntegrationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        accounting_integration = accounting_integration_create(
            acting_user=request.user, **_service_fields(serializer.validated_data)
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
        parameters=[ID_PARAMETER],
        responses={
            200: AccountingIntegrationOutputSerializer,
            **error_responses(401, 403, 404, notes={404: "No such accounting integration."}),
        },
    )
    def get(self, request, accounting_integration_id: int):
        accounting_integration = get_object_or_404(
            _accounting_integrations(), pk=accounting_integration_id
        )
        return Response(AccountingIntegrationOutputSerializer(accounting_integration).data)

    @extend_schema(
        operation_id="accounting_integrations_partial_update",
        summary="Change an accounting integration (maps, when given, replace all maps)",
        parameters=[ID_PARAMETER],
        description=f"Another integration of the same subscriber and type is 409. "
        f"{CROSS_FIELD_RULES}",
        request=AccountingIntegrationInputSerializer(partial=True),
        responses={
            200: AccountingIntegrationOutputSerializer,
            **error_responses(
                *WRITE_ERROR_CODES,
                notes={
                    403: ROUTING_REFUSED,
                    404: f"No such accounting integration, or {NAMES_NOTHING}",
                    409: EXISTS,
                },
            ),
        },
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
            **_service_fields(serializer.validated_data),
        )
        accounting_integration = _accounting_integrations().get(pk=accounting_integration.pk)
        return Response(AccountingIntegrationOutputSerializer(accounting_integration).data)

    @extend_schema(
        operation_id="accounting_integrations_destroy",
        summary="Delete an accounting integration, its maps and its history",
        parameters=[ID_PARAMETER],
        responses={
            204: None,
            **error_responses(401, 403, 404, notes={404: "No such accounting integration."}),
        },
    )
    def delete(self, request, accounting_integration_id: int):
        accounting_integration = get_object_or_404(
            AccountingIntegration, pk=accounting_integration_id
        )
        accounting_integration_delete(
            accounting_integration=accounting_integration, acting_user=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
