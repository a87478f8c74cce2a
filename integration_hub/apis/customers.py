"""REST API of customers, their notes and segments (DESIGN.md, "REST API": core records).

System Admin and System Config reach every subscriber's customers; an Owner only those of the
subscribers they own (403 otherwise). A customer is looked up by its business id in the
default subscriber unless `?subscriberId=` names another.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.errors import WRITE_ERROR_CODES, error_responses
from integration_hub.api.pagination import paginated_response
from integration_hub.api.schema import NO_NULL_CHARACTER
from integration_hub.api.strict_types import StrictTypesMixin
from integration_hub.apis.records import (
    NOTES,
    SUBSCRIBER_PARAM,
    IsRecordKeeper,
    subscriber_of_body,
    subscriber_of_query,
)
from integration_hub.models import Customer, CustomerNote
from integration_hub.record_inputs import CustomerCreateSerializer, CustomerFieldsSerializer
from integration_hub.selectors import customer_get, customer_list, customers_with_details
from integration_hub.services import customers as customer_services

SEGMENT_NAME_PARAM = OpenApiParameter(
    "segment_name",
    # 1 to 100 characters, not all blanks (customer_segment_join's rule).
    {"type": "string", "maxLength": 100, "pattern": r"^[^/]*[^/\s][^/]*$"},
    OpenApiParameter.PATH,
)
CUSTOMER_ERRORS = error_responses(400, 401, 403, 404, notes=NOTES)
CREATE_ERRORS = error_responses(
    *WRITE_ERROR_CODES,
    notes={
        **NOTES,
        404: "subscriberId names no subscriber.",
        409: "The subscriber has a customer with that customerId already.",
    },
)


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerNote
        fields = ["id", "text", "created_at"]


class CustomerOutputSerializer(serializers.ModelSerializer):
    subscriber_id = serializers.IntegerField()
    notes = NoteSerializer(many=True)
    segments = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")

    class Meta:
        model = Customer
        fields = [
            "id",
            "customer_id",
            "subscriber_id",
            *customer_services.CUSTOMER_FIELDS,
            "notes",
            "segments",
            "created_at",
            "updated_at",
        ]


def _customer_of_path(request, customer_id: str) -> Customer:
    return customer_get(subscriber=subscriber_of_query(request), customer_id=customer_id)


def _customer_response(customer: Customer, code=status.HTTP_200_OK) -> Response:
    fresh = customers_with_details().get(pk=customer.pk)
    return Response(CustomerOutputSerializer(fresh).data, status=code)


class CustomerListCreateApi(APIView):
    permission_classes = [IsRecordKeeper]

    @extend_schema(
        operation_id="customers_list",
        summary="List customers of a subscriber",
        parameters=[SUBSCRIBER_PARAM],
        responses={200: CustomerOutputSerializer(many=True), **CUSTOMER_ERRORS},
    )
    def get(self, request):
        customers = customer_list(subscriber=subscriber_of_query(request))
        return paginated_response(
            request, customers, view=self, serializer_class=CustomerOutputSerializer
        )

    @extend_schema(
        operation_id="customers_create",
        summary="Create a customer",
        request=CustomerCreateSerializer,
        responses={
            201: CustomerOutputSerializer,
            **CREATE_ERRORS,
        },
    )
    def post(self, request):
        serializer = CustomerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        subscriber = subscriber_of_body(request, data)
        data.pop("subscriber_id", None)
        customer = customer_services.customer_create(subscriber=subscriber, **data)
        return _customer_response(customer, status.HTTP_201_CREATED)


class CustomerDetailApi(APIView):
    permission_classes = [IsRecordKeeper]

    @extend_schema(
        operation_id="customers_retrieve",
        summary="Read a customer",
        parameters=[SUBSCRIBER_PARAM],
        responses={200: CustomerOutputSerializer, **CUSTOMER_ERRORS},
    )
    def get(self, request, customer_id: str):
        return Response(CustomerOutputSerializer(_customer_of_path(request, customer_id)).data)

    @extend_schema(
        operation_id="customers_partial_update",
        summary="Change a customer",
        parameters=[SUBSCRIBER_PARAM],
        request=CustomerFieldsSerializer(partial=True),
        responses={200: CustomerOutputSerializer, **CUSTOMER_ERRORS},
    )
    def patch(self, request, customer_id: str):
        customer = _customer_of_path(request, customer_id)
        serializer = CustomerFieldsSerializer(customer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer = customer_services.customer_update(customer=customer, **serializer.validated_data)
        return _customer_response(customer)

    @extend_schema(
        operation_id="customers_destroy",
        summary="Delete a customer",
        parameters=[SUBSCRIBER_PARAM],
        responses={204: None, **CUSTOMER_ERRORS},
    )
    def delete(self, request, customer_id: str):
        customer_services.customer_delete(customer=_customer_of_path(request, customer_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "pattern": NO_NULL_CHARACTER,
        },
        "minItems": 2,
        "maxItems": 100,
        "uniqueItems": True,
    }
)
class CustomerIdsField(serializers.ListField):
    """Customer ids taken as they are written (" C2" is not "C2"), each once."""

    # customer_merge refuses an id given twice (400, naming customerIds).
    child = serializers.CharField(max_length=64, trim_whitespace=False)


class CustomerMergeSerializer(StrictTypesMixin, serializers.Serializer):
    customer_ids = CustomerIdsField(min_length=2, max_length=100)
    subscriber_id = serializers.IntegerField(required=False, min_value=1)


class CustomerMergeApi(APIView):
    permission_classes = [IsRecordKeeper]

    @extend_schema(
        operation_id="customers_merge",
        summary="Merge customers into a new one",
        description=(
            "The new customer gets a newly assigned customerId; its fields come from the first "
            "id, blanks filled from the others; notes and segments are combined; orders move "
            "to it; the merged customers are deleted. A customerId the subscriber does not "
            "have is 404, naming customerIds."
        ),
        request=CustomerMergeSerializer,
        responses={
            201: CustomerOutputSerializer,
            **error_responses(
                400,
                401,
                403,
                404,
                notes={
                    **NOTES,
                    404: "subscriberId names no subscriber, or customerIds a customer the "
                    "subscriber does not have.",
                },
            ),
        },
    )
    def post(self, request):
        serializer = CustomerMergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        merged = customer_services.customer_merge(
            subscriber=subscriber_of_body(request, serializer.validated_data),
            customer_ids=serializer.validated_data["customer_ids"],
        )
        return _customer_response(merged, status.HTTP_201_CREATED)


class NoteInputSerializer(StrictTypesMixin, serializers.Serializer):
    text = serializers.CharField(max_length=10_000)


class CustomerNoteCreateApi(APIView):
    permission_classes = [IsRecordKeeper]

    @extend_schema(
        operation_id="customers_notes_create",
        summary="Add a note to a customer",
        parameters=[SUBSCRIBER_PARAM],
        request=NoteInputSerializer,
        responses={201: NoteSerializer, **CUSTOMER_ERRORS},
    )
    def post(self, request, customer_id: str):
        customer = _customer_of_path(request, customer_id)
        serializer = NoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note = customer_services.customer_note_add(
            customer=customer, text=serializer.validated_data["text"]
        )
        return Response(NoteSerializer(note).data, status=status.HTTP_201_CREATED)


class CustomerSegmentApi(APIView):
    permission_classes = [IsRecordKeeper]

    @extend_schema(
        operation_id="customers_segments_join",
        summary="Put a customer in a segment (created if new)",
        parameters=[SEGMENT_NAME_PARAM, SUBSCRIBER_PARAM],
        request=None,
        responses={204: None, **CUSTOMER_ERRORS},
    )
    def put(self, request, customer_id: str, segment_name: str):
        customer_services.customer_segment_join(
            customer=_customer_of_path(request, customer_id), segment_name=segment_name
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="customers_segments_leave",
        summary="Take a customer out of a segment",
        parameters=[SEGMENT_NAME_PARAM, SUBSCRIBER_PARAM],
        responses={204: None, **CUSTOMER_ERRORS},
    )
    def delete(self, request, customer_id: str, segment_name: str):
        # Idempotent, like PUT: a customer not in the segment is already where DELETE puts it.
        customer_services.customer_segment_leave(
            customer=_customer_of_path(request, customer_id), segment_name=segment_name
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
