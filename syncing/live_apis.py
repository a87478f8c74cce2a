"""Under /api/v1/: live reads and writes at the partner for one of the user's connections,
Sync Account for organisations, and the user's notifications (DESIGN.md, "Connections and
inbound sync").

Partner failures become clear API errors: 404 when the partner has no such thing, 429 with
the partner's Retry-After passed on, 502 naming the cause for anything else (a 5xx, a
timeout, a refused connection, an answer of the wrong shape).
"""

import math
import re
from contextlib import contextmanager
from datetime import date, timedelta

from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.pagination import PageNumberPagination
from integration_hub.api.strict_types import StrictTypesMixin

from .apis import _connection_id
from .organisation_kit import (
    PartnerError,
    PartnerNotFound,
    PartnerRateLimited,
    PartnerTimeout,
)
from .selectors import connection_get, notification_list
from .services import live
from .services.live import (
    INVOICE_DAYS_DEFAULT,
    INVOICE_DAYS_MAX,
    PHONE_NUMBER,
    SERIES_DAYS_DEFAULT,
    SERIES_DAYS_MAX,
)
from .services.notifications import notification_mark_read
from .services.triggers import sync_account_request

# A partner that says 429 without Retry-After: ask the caller to wait this long.
DEFAULT_RETRY_AFTER_SECONDS = 60


class PartnerFailed(exceptions.APIException):
    status_code = status.HTTP_502_BAD_GATEWAY
    default_detail = "The partner's Organisation Kit failed."
    default_code = "partner_failed"


@contextmanager
def partner_errors(what: str):
    """Map what the partner (or the mirror) says to API errors."""
    try:
        yield
    except live.NotFoundHere as exc:
        raise exceptions.NotFound(str(exc)) from None
    except PartnerRateLimited as exc:
        wait = exc.retry_after if exc.retry_after else DEFAULT_RETRY_AFTER_SECONDS
        raise exceptions.Throttled(
            wait=math.ceil(wait), detail="The partner is rate limiting these calls."
        ) from None
    except PartnerNotFound:
        raise exceptions.NotFound(f"The partner has no such {what}.") from None
    except PartnerTimeout as exc:
        raise PartnerFailed(f"The partner did not answer in time ({exc}).") from None
    except PartnerError as exc:
        raise PartnerFailed(f"The partner's Organisation Kit failed: {exc}") from None


def _own_connection(request, connection_id: str):
    connection = connection_get(user=request.user, connection_id=_connection_id(connection_id))
    if connection is None:
        raise exceptions.NotFound("No such connection of yours.")
    return connection


class DateRangeSerializer(serializers.Serializer):
    fromDate = serializers.DateField(required=False)
    toDate = serializers.DateField(required=False)


def _date_range(request, *, default_days: int, max_days: int) -> tuple[date, date]:
    """?fromDate=&toDate= (YYYY-MM-DD); by default the `default_days` up to today."""
    serializer = DateRangeSerializer(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    to_date = serializer.validated_data.get("toDate") or timezone.localdate()
    from_date = serializer.validated_data.get("fromDate") or to_date - timedelta(
        days=default_days - 1
    )
    if from_date > to_date:
        raise exceptions.ValidationError({"fromDate": ["Must not be after toDate."]})
    if (to_date - from_date).days >= max_days:
        raise exceptions.ValidationError({"toDate": [f"At most {max_days} days from fromDate."]})
    return from_date, to_date


def _date_parameters(default_days: int, max_days: int) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "fromDate",
            OpenApiTypes.DATE,
            description=f"First day (default: {default_days - 1} days before toDate).",
        ),
        OpenApiParameter(
            "toDate",
            OpenApiTypes.DATE,
            description=f"Last day (default: today); at most {max_days} days after fromDate.",
        ),
    ]


LIVE_ERRORS = {
    400: OpenApiResponse(description="Bad dates: each parameter named with its messages."),
    401: OpenApiResponse(description="No or bad credentials."),
    403: OpenApiResponse(description="Your role on the account does not allow this."),
    404: OpenApiResponse(description="No such connection, account or service, at the partner."),
    429: OpenApiResponse(description="The partner is rate limiting: Retry-After says when."),
    502: OpenApiResponse(description="The partner failed; the message names the cause."),
}


def _text(value) -> str:
    return "" if value is None else str(value)


class InvoiceOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField(help_text="new, paid or overdue")
    amount = serializers.CharField()
    currency = serializers.CharField()
    issue_date = serializers.CharField()
    due_date = serializers.CharField()


def _invoice_out(item: dict) -> dict:
    return {
        "id": _text(item.get("id")),
        "status": _text(item.get("status")),
        "amount": _text(item.get("amount")),
        "currency": _text(item.get("currency")),
        "issue_date": _text(item.get("issueDate")),
        "due_date": _text(item.get("dueDate")),
    }


class SeriesValueSerializer(serializers.Serializer):
    timestamp = serializers.IntegerField(help_text="Unix seconds")
    value = serializers.CharField()


class MeasurementsOutputSerializer(serializers.Serializer):
    measurement_id = serializers.CharField()
    unit = serializers.CharField()
    values = SeriesValueSerializer(many=True)


class CostOutputSerializer(serializers.Serializer):
    cost_id = serializers.CharField()
    currency = serializers.CharField()
    values = SeriesValueSerializer(many=True)


def _series(values) -> list[dict]:
    series = []
    for point in values if isinstance(values, list) else []:
        if not isinstance(point, dict):
            continue
        try:
            timestamp = int(point.get("timestamp"))
        except (TypeError, ValueError):
            continue
        series.append({"timestamp": timestamp, "value": _text(point.get("value"))})
    return series


class ConnectionInvoicesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="connection_account_invoices",
        summary="An account's invoices, live from the partner",
        description="Account owners only; never stored by the hub.",
        parameters=_date_parameters(INVOICE_DAYS_DEFAULT, INVOICE_DAYS_MAX),
        responses={200: InvoiceOutputSerializer(many=True), **LIVE_ERRORS},
    )
    def get(self, request, connection_id: str, account_id: str):
        connection = _own_connection(request, connection_id)
        from_date, to_date = _date_range(
            request, default_days=INVOICE_DAYS_DEFAULT, max_days=INVOICE_DAYS_MAX
        )
        with partner_errors("account"):
            invoices = live.invoices_live(
                connection=connection, account_id=account_id, from_date=from_date, to_date=to_date
            )
        return Response([_invoice_out(item) for item in invoices])


_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _pdf_chunks(response):
    try:
        yield from response.iter_content(chunk_size=64 * 1024)
    finally:
        response.close()


class ConnectionInvoicePdfApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="connection_account_invoice_pdf",
        summary="An invoice's PDF, streamed from the partner",
        description="Account owners only. A partner that offers only a URL for the PDF gets "
        "a 302 to it.",
        responses={
            (200, "application/pdf"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description="The PDF."
            ),
            302: OpenApiResponse(description="The partner's URL of the PDF."),
            **{code: response for code, response in LIVE_ERRORS.items() if code != 400},
        },
    )
    def get(self, request, connection_id: str, account_id: str, invoice_id: str):
        connection = _own_connection(request, connection_id)
        with partner_errors("invoice"):
            how, answer = live.invoice_pdf_live(
                connection=connection, account_id=account_id, invoice_id=invoice_id
            )
        if how == "url":
            if not answer.startswith(("https://", "http://")):
                raise PartnerFailed("The partner's PDF URL is not an http(s) URL.")
            return HttpResponseRedirect(answer)
        response = StreamingHttpResponse(_pdf_chunks(answer), content_type="application/pdf")
        filename = _FILENAME_UNSAFE.sub("_", invoice_id)[:100] or "invoice"
        response["Content-Disposition"] = f'inline; filename="{filename}.pdf"'
        return response


class _ServiceSeriesApi(APIView):
    """A time series of a service, live from the partner: measurements or cost."""

    permission_classes = [IsAuthenticated]
    what = ""  # named in the 404 when the partner has no such series

    def series_live(self, **kwargs) -> dict:
        raise NotImplementedError

    def series_out(self, body: dict) -> dict:
        return {"values": _series(body.get("values"))}

    def get(self, request, connection_id: str, service_id: str):
        connection = _own_connection(request, connection_id)
        from_date, to_date = _date_range(
            request, default_days=SERIES_DAYS_DEFAULT, max_days=SERIES_DAYS_MAX
        )
        with partner_errors(self.what):
            body = self.series_live(
                connection=connection, service_id=service_id, from_date=from_date, to_date=to_date
            )
        return Response(self.series_out(body))


class ConnectionMeasurementsApi(_ServiceSeriesApi):
    what = "measurement"

    def series_live(self, **kwargs) -> dict:
        return live.measurements_live(**kwargs)

    def series_out(self, body: dict) -> dict:
        return {
            "measurement_id": _text(body.get("measurementId")),
            "unit": _text(body.get("unit")),
            **super().series_out(body),
        }

    @extend_schema(
        operation_id="connection_service_measurements",
        summary="A service's measurements, live from the partner",
        description="Owners and guests of the account; never stored by the hub.",
        parameters=_date_parameters(SERIES_DAYS_DEFAULT, SERIES_DAYS_MAX),
        responses={200: MeasurementsOutputSerializer, **LIVE_ERRORS},
    )
    def get(self, request, connection_id: str, service_id: str):
        return super().get(request, connection_id, service_id)


class ConnectionCostApi(_ServiceSeriesApi):
    what = "cost"

    def series_live(self, **kwargs) -> dict:
        return live.cost_live(**kwargs)

    def series_out(self, body: dict) -> dict:
        return {
            "cost_id": _text(body.get("costId")),
            "currency": _text(body.get("currency")),
            **super().series_out(body),
        }

    @extend_schema(
        operation_id="connection_service_cost",
        summary="A service's cost, live from the partner",
        description="Account owners only; never stored by the hub.",
        parameters=_date_parameters(SERIES_DAYS_DEFAULT, SERIES_DAYS_MAX),
        responses={200: CostOutputSerializer, **LIVE_ERRORS},
    )
    def get(self, request, connection_id: str, service_id: str):
        return super().get(request, connection_id, service_id)


class PartnerUserSerializer(serializers.Serializer):
    id = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    email_address = serializers.CharField()
    phone_number = serializers.CharField()


def _partner_user_out(user: dict) -> dict:
    return {
        "id": None if user.get("id") is None else str(user["id"]),
        "name": _text(user.get("name")),
        "email_address": _text(user.get("emailAddress")),
        "phone_number": _text(user.get("phoneNumber")),
    }


class UserUpdateInputSerializer(StrictTypesMixin, serializers.Serializer):
    phone_number = serializers.RegexField(PHONE_NUMBER, required=False, max_length=50)
    email_address = serializers.EmailField(required=False, max_length=254)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                {"phone_number": ["Give phoneNumber, emailAddress or both."]}
            )
        return attrs


class ConnectionUserUpdateApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="connection_user_update",
        summary="Update a user's phone number or email at the partner",
        description="Your own partner user only; then the mirror is refreshed "
        "and an UPDATE_USER_SUCCESS event recorded.",
        request=UserUpdateInputSerializer,
        responses={
            200: PartnerUserSerializer,
            400: OpenApiResponse(description="Invalid input: each field named."),
            **{code: response for code, response in LIVE_ERRORS.items() if code != 400},
        },
    )
    def patch(self, request, connection_id: str, user_id: str):
        connection = _own_connection(request, connection_id)
        serializer = UserUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with partner_errors("user"):
            answer = live.account_user_update(
                connection=connection,
                user_id=user_id,
                phone_number=serializer.validated_data.get("phone_number"),
                email_address=serializer.validated_data.get("email_address"),
            )
        return Response(_partner_user_out(answer))


class GuestAddInputSerializer(StrictTypesMixin, serializers.Serializer):
    name = serializers.CharField(max_length=200)
    email_address = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phone_number = serializers.RegexField(
        PHONE_NUMBER, required=False, allow_blank=True, max_length=50
    )


class GuestOutputSerializer(serializers.Serializer):
    role = serializers.CharField()
    user = PartnerUserSerializer()


class ConnectionGuestAddApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="connection_account_guest_add",
        summary="Add a guest to an account at the partner",
        description="Account owners only; then the mirror is refreshed and an "
        "ADD_USER_SUCCESS event recorded.",
        request=GuestAddInputSerializer,
        responses={
            201: GuestOutputSerializer,
            400: OpenApiResponse(description="Invalid input: each field named."),
            **{code: response for code, response in LIVE_ERRORS.items() if code != 400},
        },
    )
    def post(self, request, connection_id: str, account_id: str):
        connection = _own_connection(request, connection_id)
        serializer = GuestAddInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with partner_errors("account"):
            answer = live.account_guest_add(
                connection=connection,
                account_id=account_id,
                name=data["name"],
                email_address=data.get("email_address", ""),
                phone_number=data.get("phone_number", ""),
            )
        return Response(
            {"role": _text(answer["role"]), "user": _partner_user_out(answer["user"])},
            status=status.HTTP_201_CREATED,
        )


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
        "by an invoice sync of every connection holding an account with this customerId.",
        request=SyncAccountInputSerializer,
        responses={
            202: SyncAccountOutputSerializer,
            400: OpenApiResponse(description="Invalid input: each field named."),
            401: LIVE_ERRORS[401],
            403: OpenApiResponse(
                description="Not System Admin, System Config or an integration's service user."
            ),
            404: OpenApiResponse(description="No connection holds an account with this id."),
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


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    message = serializers.CharField()
    connection_id = serializers.IntegerField()
    account_id = serializers.CharField(source="account.partner_id")
    invoice_id = serializers.CharField()
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationListApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="notifications_list",
        summary="Your notifications, newest first",
        parameters=[
            OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only the unread ones.")
        ],
        responses={
            200: NotificationOutputSerializer(many=True),
            400: OpenApiResponse(description="A bad page, pageSize or unread."),
            401: LIVE_ERRORS[401],
            404: OpenApiResponse(description="A page past the last."),
        },
    )
    def get(self, request):
        unread = request.query_params.get("unread", "false").lower()
        if unread not in ("true", "false"):
            raise exceptions.ValidationError({"unread": ["true or false."]})
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            notification_list(user=request.user, unread_only=unread == "true"), request, view=self
        )
        return paginator.get_paginated_response(NotificationOutputSerializer(page, many=True).data)


class NotificationReadApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="notification_read",
        summary="Mark one of your notifications read",
        request=None,
        responses={
            204: OpenApiResponse(description="Marked read."),
            401: LIVE_ERRORS[401],
            404: OpenApiResponse(description="No such notification of yours."),
        },
    )
    def post(self, request, notification_id: str):
        notification = notification_list(user=request.user).filter(pk=int(notification_id)).first()
        if notification is None:
            raise exceptions.NotFound("No such notification of yours.")
        notification_mark_read(notification=notification)
        return Response(status=status.HTTP_204_NO_CONTENT)
