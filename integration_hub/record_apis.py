"""REST API of the core records: customers (with notes and segments) and orders.

System Admin and System Config reach every subscriber's records; an Owner only those of the
subscribers they own (403 otherwise). Records are looked up in the default subscriber unless
`?subscriberId=` (or `subscriberId` in the body) names another.
"""

from decimal import Decimal

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub import roles
from integration_hub.api.pagination import PageNumberPagination
from integration_hub.api.strict_types import StrictTypesMixin
from integration_hub.models import Customer, CustomerNote, Order, Segment, Subscriber
from integration_hub.selectors import default_subscriber, subscribers_visible_to
from integration_hub.services import customers as customer_services
from integration_hub.services.orders import ItemInput, PaymentInput, order_modify, order_post

ERRORS = {
    400: OpenApiResponse(description="Invalid input: each field named with its messages."),
    401: OpenApiResponse(description="No or bad credentials."),
    403: OpenApiResponse(description="Not an Owner of that subscriber, or a role without access."),
    404: OpenApiResponse(description="No such record in that subscriber."),
}
SUBSCRIBER_PARAM = OpenApiParameter(
    "subscriberId",
    OpenApiTypes.INT,
    OpenApiParameter.QUERY,
    description="The subscriber to look in (default: the default subscriber).",
)


class IsRecordKeeper(IsAuthenticated):
    """System Admin, System Config, or an Owner (narrowed per subscriber in the view)."""

    def has_permission(self, request, view):
        return roles.user_has_role(
            request.user, roles.SYSTEM_ADMIN, roles.SYSTEM_CONFIG, roles.OWNER
        )


def subscriber_for(user, subscriber_id) -> Subscriber:
    """The subscriber a request addresses, if the user may reach it."""
    if subscriber_id in (None, ""):
        subscriber = default_subscriber()
    else:
        try:
            subscriber = Subscriber.objects.filter(pk=int(subscriber_id)).first()
        except (TypeError, ValueError):
            raise exceptions.ValidationError(
                {"subscriberId": ["A subscriber id is a whole number."]}
            ) from None
    if roles.user_has_role(user, roles.SYSTEM_ADMIN, roles.SYSTEM_CONFIG):
        if subscriber is None:
            raise exceptions.ValidationError({"subscriberId": [f"No subscriber {subscriber_id}."]})
        return subscriber
    if subscriber is None or not subscriber.owners.filter(user=user).exists():
        raise exceptions.PermissionDenied(
            f"You are not an Owner of subscriber {subscriber_id or 'the default subscriber'}."
        )
    return subscriber


def _customers():
    return Customer.objects.select_related("subscriber").prefetch_related(
        Prefetch("notes", queryset=CustomerNote.objects.order_by("created_at", "id")),
        Prefetch("segments", queryset=Segment.objects.order_by("name")),
    )


def customer_for(request, customer_id: str) -> Customer:
    subscriber = subscriber_for(request.user, request.query_params.get("subscriberId"))
    customer = _customers().filter(subscriber=subscriber, customer_id=customer_id).first()
    if customer is None:
        raise exceptions.NotFound(f"No customer {customer_id} in subscriber {subscriber.pk}.")
    return customer


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerNote
        fields = ["id", "text", "created_at"]


CUSTOMER_FIELDS = list(customer_services.CUSTOMER_FIELDS)


class CustomerFieldsSerializer(StrictTypesMixin, serializers.ModelSerializer):
    class Meta:
        model = Customer
        fields = CUSTOMER_FIELDS

    def validate_country_code(self, value):
        if value and not (len(value) == 2 and value.isalpha()):
            raise serializers.ValidationError("A two-letter country code, such as SE.")
        return value.upper()


class CustomerCreateSerializer(CustomerFieldsSerializer):
    customer_id = serializers.CharField(max_length=64)
    subscriber_id = serializers.IntegerField(required=False, min_value=1)

    class Meta(CustomerFieldsSerializer.Meta):
        fields = ["customer_id", "subscriber_id", *CUSTOMER_FIELDS]


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
            *CUSTOMER_FIELDS,
            "notes",
            "segments",
            "created_at",
            "updated_at",
        ]


def _customer_response(customer: Customer, code=status.HTTP_200_OK) -> Response:
    fresh = _customers().get(pk=customer.pk)
    return Response(CustomerOutputSerializer(fresh).data, status=code)


class CustomerListCreateApi(APIView):
    permission_classes = [IsRecordKeeper]

    @extend_schema(
        operation_id="customers_list",
        summary="List customers of a subscriber",
        parameters=[SUBSCRIBER_PARAM],
        responses={
            200: CustomerOutputSerializer(many=True),
            400: ERRORS[400],
            401: ERRORS[401],
            403: ERRORS[403],
        },
    )
    def get(self, request):
        subscriber = subscriber_for(request.user, request.query_params.get("subscriberId"))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            _customers().filter(subscriber=subscriber).order_by("customer_id"), request, view=self
        )
        return paginator.get_paginated_response(CustomerOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="customers_create",
        summary="Create a customer",
        request=CustomerCreateSerializer,
        responses={
            201: CustomerOutputSerializer,
            400: ERRORS[400],
            401: ERRORS[401],
            403: ERRORS[403],
        },
    )
    def post(self, request):
        serializer = CustomerCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        subscriber = subscriber_for(request.user, data.pop("subscriber_id", None))
        customer = customer_services.customer_create(subscriber=subscriber, **data)
        return _customer_response(customer, status.HTTP_201_CREATED)


class CustomerDetailApi(APIView):
    permission_classes = [IsRecordKeeper]

    @extend_schema(
        operation_id="customers_retrieve",
        summary="Read a customer",
        parameters=[SUBSCRIBER_PARAM],
        responses={200: CustomerOutputSerializer, **ERRORS},
    )
    def get(self, request, customer_id: str):
        return Response(CustomerOutputSerializer(customer_for(request, customer_id)).data)

    @extend_schema(
        operation_id="customers_partial_update",
        summary="Change a customer",
        parameters=[SUBSCRIBER_PARAM],
        request=CustomerFieldsSerializer(partial=True),
        responses={200: CustomerOutputSerializer, **ERRORS},
    )
    def patch(self, request, customer_id: str):
        customer = customer_for(request, customer_id)
        serializer = CustomerFieldsSerializer(customer, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        customer = customer_services.customer_update(customer=customer, **serializer.validated_data)
        return _customer_response(customer)

    @extend_schema(
        operation_id="customers_destroy",
        summary="Delete a customer",
        parameters=[SUBSCRIBER_PARAM],
        responses={204: None, **ERRORS},
    )
    def delete(self, request, customer_id: str):
        customer_services.customer_delete(customer=customer_for(request, customer_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomerMergeSerializer(StrictTypesMixin, serializers.Serializer):
    customer_ids = serializers.ListField(
        child=serializers.CharField(max_length=64), min_length=2, max_length=100
    )
    subscriber_id = serializers.IntegerField(required=False, min_value=1)


class CustomerMergeApi(APIView):
    permission_classes = [IsRecordKeeper]

    @extend_schema(
        operation_id="customers_merge",
        summary="Merge customers into a new one",
        description=(
            "The new customer gets a newly assigned customerId; its fields come from the first "
            "id, blanks filled from the others; notes and segments are combined; orders move "
            "to it; the merged customers are deleted."
        ),
        request=CustomerMergeSerializer,
        responses={
            201: CustomerOutputSerializer,
            400: ERRORS[400],
            401: ERRORS[401],
            403: ERRORS[403],
        },
    )
    def post(self, request):
        serializer = CustomerMergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscriber = subscriber_for(request.user, serializer.validated_data.get("subscriber_id"))
        merged = customer_services.customer_merge(
            subscriber=subscriber, customer_ids=serializer.validated_data["customer_ids"]
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
        responses={201: NoteSerializer, **ERRORS},
    )
    def post(self, request, customer_id: str):
        customer = customer_for(request, customer_id)
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
        parameters=[SUBSCRIBER_PARAM],
        request=None,
        responses={204: None, **ERRORS},
    )
    def put(self, request, customer_id: str, segment_name: str):
        customer_services.customer_segment_join(
            customer=customer_for(request, customer_id), segment_name=segment_name
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        operation_id="customers_segments_leave",
        summary="Take a customer out of a segment",
        parameters=[SUBSCRIBER_PARAM],
        responses={204: None, **ERRORS},
    )
    def delete(self, request, customer_id: str, segment_name: str):
        # Idempotent, like PUT: a customer not in the segment is already where DELETE puts it.
        customer_services.customer_segment_leave(
            customer=customer_for(request, customer_id), segment_name=segment_name
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ItemSerializer(StrictTypesMixin, serializers.Serializer):
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    revenue_category = serializers.CharField(max_length=100)
    tax_rate = serializers.DecimalField(
        max_digits=6, decimal_places=4, min_value=0, max_value=Decimal("0.9999")
    )
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=Decimal("0.001"))
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)


class PaymentSerializer(StrictTypesMixin, serializers.Serializer):
    payment_method = serializers.CharField(max_length=50)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0)


class OrderInputSerializer(StrictTypesMixin, serializers.Serializer):
    retail_transaction_id = serializers.CharField(max_length=64)
    customer_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    subscriber_id = serializers.IntegerField(required=False, min_value=1)
    business_date = serializers.DateField()
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        max_length=3,
        error_messages={"invalid": "A three-letter currency code, such as USD."},
    )
    items = ItemSerializer(many=True, allow_empty=False, max_length=1000)
    payments = PaymentSerializer(many=True, allow_empty=False, max_length=100)


class OrderPatchSerializer(StrictTypesMixin, serializers.Serializer):
    customer_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    business_date = serializers.DateField(required=False)
    currency = serializers.RegexField(
        r"^[A-Za-z]{3}$",
        max_length=3,
        required=False,
        error_messages={"invalid": "A three-letter currency code, such as USD."},
    )
    items = ItemSerializer(many=True, allow_empty=False, max_length=1000, required=False)
    payments = PaymentSerializer(many=True, allow_empty=False, max_length=100, required=False)


class ItemOutputSerializer(serializers.Serializer):
    sequence = serializers.IntegerField()
    description = serializers.CharField()
    revenue_category = serializers.CharField()
    tax_rate = serializers.DecimalField(max_digits=6, decimal_places=4)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, normalize_output=True)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2)
    net_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    tax_amount = serializers.DecimalField(max_digits=14, decimal_places=2)


class OrderOutputSerializer(serializers.ModelSerializer):
    subscriber_id = serializers.IntegerField()
    customer_id = serializers.CharField(
        source="customer.customer_id", allow_null=True, default=None
    )
    items = ItemOutputSerializer(many=True)
    payments = PaymentSerializer(many=True)

    class Meta:
        model = Order
        fields = [
            "id",
            "retail_transaction_id",
            "subscriber_id",
            "customer_id",
            "business_date",
            "currency",
            "subtotal",
            "tax_total",
            "total",
            "items",
            "payments",
            "created_at",
            "updated_at",
        ]


def _orders():
    return Order.objects.select_related("customer").prefetch_related("items", "payments")


def _customer_in(subscriber: Subscriber, customer_id: str | None) -> Customer | None:
    if not customer_id:
        return None
    customer = Customer.objects.filter(subscriber=subscriber, customer_id=customer_id).first()
    if customer is None:
        raise exceptions.ValidationError(
            {"customerId": [f"No customer {customer_id} in subscriber {subscriber.pk}."]}
        )
    return customer


def _items(data) -> list[ItemInput]:
    return [ItemInput(**item) for item in data]


def _payments(data) -> list[PaymentInput]:
    return [PaymentInput(**payment) for payment in data]


class OrderListCreateApi(APIView):
    permission_classes = [IsRecordKeeper]

    @extend_schema(
        operation_id="orders_list",
        summary="List orders of a subscriber, newest business date first",
        parameters=[SUBSCRIBER_PARAM],
        responses={
            200: OrderOutputSerializer(many=True),
            400: ERRORS[400],
            401: ERRORS[401],
            403: ERRORS[403],
        },
    )
    def get(self, request):
        subscriber = subscriber_for(request.user, request.query_params.get("subscriberId"))
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            _orders()
            .filter(subscriber=subscriber)
            .order_by("-business_date", "retail_transaction_id"),
            request,
            view=self,
        )
        return paginator.get_paginated_response(OrderOutputSerializer(page, many=True).data)

    @extend_schema(
        operation_id="orders_create",
        summary="Post an order (a point-of-sale transaction)",
        description=(
            "Item tax = round(quantity x unitPrice x taxRate, 2), half up. Payments must add up "
            "to the order's gross total (nets plus taxes)."
        ),
        request=OrderInputSerializer,
        responses={
            201: OrderOutputSerializer,
            400: ERRORS[400],
            401: ERRORS[401],
            403: ERRORS[403],
        },
    )
    def post(self, request):
        serializer = OrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscriber = subscriber_for(request.user, data.get("subscriber_id"))
        order = order_post(
            subscriber=subscriber,
            retail_transaction_id=data["retail_transaction_id"],
            customer=_customer_in(subscriber, data.get("customer_id")),
            business_date=data["business_date"],
            currency=data["currency"],
            items=_items(data["items"]),
            payments=_payments(data["payments"]),
        )
        return Response(
            OrderOutputSerializer(_orders().get(pk=order.pk)).data, status=status.HTTP_201_CREATED
        )


def order_for(request, retail_transaction_id: str) -> Order:
    """The order, if it belongs to a subscriber the user reaches (404 otherwise, so that an
    Owner learns nothing about other subscribers' transaction ids)."""
    order = (
        _orders()
        .filter(
            retail_transaction_id=retail_transaction_id,
            subscriber__in=subscribers_visible_to(request.user),
        )
        .first()
    )
    if order is None:
        raise exceptions.NotFound(f"No order {retail_transaction_id}.")
    return order


class OrderDetailApi(APIView):
    permission_classes = [IsRecordKeeper]

    @extend_schema(
        operation_id="orders_retrieve",
        summary="Read an order",
        responses={
            200: OrderOutputSerializer,
            401: ERRORS[401],
            403: ERRORS[403],
            404: ERRORS[404],
        },
    )
    def get(self, request, retail_transaction_id: str):
        return Response(OrderOutputSerializer(order_for(request, retail_transaction_id)).data)

    @extend_schema(
        operation_id="orders_partial_update",
        summary="Modify an order",
        description="Items or payments given replace the old ones; totals are recomputed.",
        request=OrderPatchSerializer,
        responses={200: OrderOutputSerializer, **ERRORS},
    )
    def patch(self, request, retail_transaction_id: str):
        order = order_for(request, retail_transaction_id)
        serializer = OrderPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer_given = "customer_id" in data
        order = order_modify(
            order=order,
            business_date=data.get("business_date"),
            currency=data.get("currency"),
            customer=_customer_in(order.subscriber, data.get("customer_id"))
            if customer_given
            else None,
            clear_customer=customer_given and not data.get("customer_id"),
            items=_items(data["items"]) if "items" in data else None,
            payments=_payments(data["payments"]) if "payments" in data else None,
        )
        return Response(OrderOutputSerializer(_orders().get(pk=order.pk)).data)
