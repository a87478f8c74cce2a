"""Under /api/v1/connections/{id}/: live reads at the partner for one of the user's
connections: an account's invoices and an invoice's PDF, a service's measurements and cost
(DESIGN.md, "Reads and writes for the web UI and external apps"). Never stored by the hub.

Partner failures become clear API errors (partner_errors): 404 when the partner has no such
thing, 429 with the partner's Retry-After passed on, 502 naming the cause for anything else
(a 5xx, a timeout, a refused connection, an answer of the wrong shape).
"""

import math
import re
from contextlib import contextmanager
from datetime import date, timedelta

from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.errors import error_responses

from ..organisation_kit import (
    PartnerError,
    PartnerNotFound,
    PartnerRateLimited,
    PartnerTimeout,
)
from ..selectors import connection_of
from ..services import live
from ..services.live import (
    INVOICE_DAYS_DEFAULT,
    INVOICE_DAYS_MAX,
    SERIES_DAYS_DEFAULT,
    SERIES_DAYS_MAX,
)
from .connections import DISABLED_409

# A partner that says 429 without Retry-After: ask the caller to wait this long.
DEFAULT_RETRY_AFTER_SECONDS = 60
_NOT_FOUND = "No such connection, account or service, at the partner."
_ROLE = "Your role on the account does not allow this."
# The answers of every live call but the 400s of its input.
PARTNER_ERRORS = error_responses(
    401, 403, 404, 409, 502, notes={403: _ROLE, 404: _NOT_FOUND, 409: DISABLED_409}
)


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


def text(value) -> str:
    return "" if value is None else str(value)


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


def _dated(description: str, *, default_days: int, max_days: int) -> dict:
    """extend_schema arguments of a live read over ?fromDate=&toDate=: the parameters, and
    the description with the rules between the two dates that a schema cannot express."""
    return {
        "description": f"{description} Rules the schema cannot express (400): fromDate is not "
        f"after toDate, and the period is at most {max_days} days.",
        "parameters": [
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
        ],
    }


_DATES_400 = error_responses(400, notes={400: "Bad dates: each parameter named."})


class InvoiceOutputSerializer(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField(help_text="new, paid or overdue")
    amount = serializers.CharField()
    currency = serializers.CharField()
    issue_date = serializers.CharField()
    due_date = serializers.CharField()


def _invoice_out(item: dict) -> dict:
    return {
        "id": text(item.get("id")),
        "status": text(item.get("status")),
        "amount": text(item.get("amount")),
        "currency": text(item.get("currency")),
        "issue_date": text(item.get("issueDate")),
        "due_date": text(item.get("dueDate")),
    }


class ConnectionInvoicesApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="connection_account_invoices",
        summary="An account's invoices, live from the partner",
        **_dated(
            "Account owners only; never stored by the hub.",
            default_days=INVOICE_DAYS_DEFAULT,
            max_days=INVOICE_DAYS_MAX,
        ),
        responses={200: InvoiceOutputSerializer(many=True), **_DATES_400, **PARTNER_ERRORS},
    )
    def get(self, request, connection_id: str, account_id: str):
        connection = connection_of(user=request.user, connection_id=connection_id)
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
            **PARTNER_ERRORS,
        },
    )
    def get(self, request, connection_id: str, account_id: str, invoice_id: str):
        connection = connection_of(user=request.user, connection_id=connection_id)
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
        series.append({"timestamp": timestamp, "value": text(point.get("value"))})
    return series


class _ServiceSeriesApi(APIView):
    """A time series of a service, live from the partner: measurements or cost."""

    permission_classes = [IsAuthenticated]
    what = ""  # named in the 404 when the partner has no such series
    series_live = None  # the live read (a service function)
    heading: tuple[tuple[str, str], ...] = ()  # (our key, the partner's) before the values

    def get(self, request, connection_id: str, service_id: str):
        connection = connection_of(user=request.user, connection_id=connection_id)
        from_date, to_date = _date_range(
            request, default_days=SERIES_DAYS_DEFAULT, max_days=SERIES_DAYS_MAX
        )
        with partner_errors(self.what):
            body = self.series_live(
                connection=connection, service_id=service_id, from_date=from_date, to_date=to_date
            )
        heading = {ours: text(body.get(theirs)) for ours, theirs in self.heading}
        return Response({**heading, "values": _series(body.get("values"))})


def _series_schema(what: str, output, description: str):
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"connection_service_{what}",
            summary=f"A service's {what}, live from the partner",
            **_dated(description, default_days=SERIES_DAYS_DEFAULT, max_days=SERIES_DAYS_MAX),
            responses={200: output, **_DATES_400, **PARTNER_ERRORS},
        )
    )


@_series_schema(
    "measurements",
    MeasurementsOutputSerializer,
    "Owners and guests of the account; never stored by the hub.",
)
class ConnectionMeasurementsApi(_ServiceSeriesApi):
    what = "measurement"
    series_live = staticmethod(live.measurements_live)
    heading = (("measurement_id", "measurementId"), ("unit", "unit"))


@_series_schema("cost", CostOutputSerializer, "Account owners only; never stored by the hub.")
class ConnectionCostApi(_ServiceSeriesApi):
    what = "cost"
    series_live = staticmethod(live.cost_live)
    heading = (("cost_id", "costId"), ("currency", "currency"))
