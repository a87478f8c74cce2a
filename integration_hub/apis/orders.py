"""REST API of orders, the point of sale's "post transaction" (DESIGN.md, "REST API": core
records). An order is found by its retailTransactionId among the subscribers the user
reaches; lists take `?subscriberId=` like customers."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from integration_hub.api.errors import WRITE_ERROR_CODES, error_responses
from integration_hub.api.pagination import paginated_response
from integration_hub.apis.records import (
    NOTES,
    SUBSCRIBER_PARAM,
    IsRecordKeeper,
    subscriber_of_body,
    subscriber_of_query,
)
from integration_hub.models import Order
from integration_hub.record_inputs import (
    OrderInputSerializer,
    OrderPatchSerializer,
    PaymentSerializer,
)
from integration_hub.selectors import customer_named, order_get, order_list, orders_with_lines
from integration_hub.services.orders import order_arguments, order_modify, order_post

PAYMENTS_RULE = (
    "Refused with 400 (a rule across values): payments that do not add up to the order's "
    "gross total (nets plus taxes)."
)
ORDER_NOTES = {
    **NOTES,
    404: "No such order among the subscribers you reach, or a customerId or subscriberId "
    "that names nothing.",
}
POST_ERRORS = error_responses(
    *WRITE_ERROR_CODES,
    notes={**ORDER_NOTES, 409: "An order with that retailTransactionId exists."},
)


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


def _order_response(order: Order, code=status.HTTP_200_OK) -> Response:
    return Response(OrderOutputSerializer(orders_with_lines().get(pk=order.pk)).data, status=code)


class OrderListCreateApi(APIView):
    permission_classes = [IsRecordKeeper]

    @extend_schema(
        operation_id="orders_list",
        summary="List orders of a subscriber, newest business date first",
        parameters=[SUBSCRIBER_PARAM],
        responses={
            200: OrderOutputSerializer(many=True),
            **error_responses(400, 401, 403, 404, notes=NOTES),
        },
    )
    def get(self, request):
        orders = order_list(subscriber=subscriber_of_query(request))
        return paginated_response(
            request, orders, view=self, serializer_class=OrderOutputSerializer
        )

    @extend_schema(
        operation_id="orders_create",
        summary="Post an order (a point-of-sale transaction)",
        description=(
            "Item tax = round(quantity x unitPrice x taxRate, 2), half up.\n\n" + PAYMENTS_RULE
        ),
        request=OrderInputSerializer,
        responses={
            201: OrderOutputSerializer,
            **POST_ERRORS,
        },
    )
    def post(self, request):
        serializer = OrderInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        subscriber = subscriber_of_body(request, data)
        customer = customer_named(subscriber=subscriber, customer_id=data.get("customer_id"))
        order = order_post(subscriber=subscriber, customer=customer, **order_arguments(data))
        return _order_response(order, status.HTTP_201_CREATED)


def _order_of_path(request, retail_transaction_id: str) -> Order:
    """The order with this id in the subscriber `?subscriberId=` names (the default one without
    it), if the user reaches that subscriber: ids are unique per subscriber, and nothing tells
    one subscriber whether another has an id."""
    return order_get(
        subscriber=subscriber_of_query(request), retail_transaction_id=retail_transaction_id
    )


class OrderDetailApi(APIView):
    permission_classes = [IsRecordKeeper]

    @extend_schema(
        operation_id="orders_retrieve",
        summary="Read an order",
        parameters=[SUBSCRIBER_PARAM],
        responses={
            200: OrderOutputSerializer,
            **error_responses(400, 401, 403, 404, notes=NOTES),
        },
    )
    def get(self, request, retail_transaction_id: str):
        order = _order_of_path(request, retail_transaction_id)
        return Response(OrderOutputSerializer(order).data)

    @extend_schema(
        operation_id="orders_partial_update",
        summary="Modify an order",
        description=(
            "Items or payments given replace the old ones; totals are recomputed.\n\n"
            + PAYMENTS_RULE
        ),
        parameters=[SUBSCRIBER_PARAM],
        request=OrderPatchSerializer,
        responses={
            200: OrderOutputSerializer,
            **error_responses(400, 401, 403, 404, notes=ORDER_NOTES),
        },
    )
    def patch(self, request, retail_transaction_id: str):
        order = _order_of_path(request, retail_transaction_id)
        serializer = OrderPatchSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        customer_given = "customer_id" in data
        order = order_modify(
            order=order,
            customer=customer_named(subscriber=order.subscriber, customer_id=data["customer_id"])
            if customer_given
            else None,
            clear_customer=customer_given and not data["customer_id"],
            **order_arguments(data),
        )
        return _order_response(order)
