"""The shapes customers and orders are written in: the API's request bodies and batch
import's rows, validated by the same serializers (camelCase on the wire, snake_case here).

Every rule a serializer enforces on one value is also in the schema it documents (lengths,
patterns, item counts, ranges), so that a request the schema calls valid is refused only for
a rule across fields; those rules are listed in the operations' descriptions.
"""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from integration_hub.api.strict_types import StrictTypesMixin
from integration_hub.models import Customer
from integration_hub.services.customers import CUSTOMER_FIELDS

MAX_ITEMS = 1000
MAX_PAYMENTS = 100
# "SE" or "se" (stored upper case); blank, for none, is allowed beside it.
COUNTRY_CODE = r"^[A-Za-z]{2}$"


def _decimal_schema(pattern: str, *, whole_from: int, whole_to: int) -> dict:
    """A decimal written as a string ("20.00"), or as a whole number (1): never as a float,
    which cannot hold money exactly (api/strict_types.py refuses it)."""
    return {
        "anyOf": [
            {"type": "string", "format": "decimal", "pattern": pattern},
            {"type": "integer", "minimum": whole_from, "maximum": whole_to},
        ]
    }


# drf-spectacular documents a DecimalField by its digits only ("-?" included); these say the
# range too, so that a negative amount or a tax rate of 1 or more is outside the schema.
@extend_schema_field(
    _decimal_schema(r"^(?:\d{1,12}(?:\.\d{0,2})?|\.\d{1,2})$", whole_from=0, whole_to=10**12 - 1)
)
class MoneyField(serializers.DecimalField):
    """An amount of money of at least 0, to the cent."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=14, decimal_places=2, min_value=Decimal(0), **kwargs)


@extend_schema_field(
    _decimal_schema(r"^(?:0{1,2}(?:\.\d{0,4})?|\.\d{1,4})$", whole_from=0, whole_to=0)
)
class TaxRateField(serializers.DecimalField):
    """A tax rate from 0 to 0.9999 (0.0800 is 8 %)."""

    def __init__(self, **kwargs):
        super().__init__(
            max_digits=6,
            decimal_places=4,
            min_value=Decimal(0),
            max_value=Decimal("0.9999"),
            **kwargs,
        )


@extend_schema_field(
    _decimal_schema(
        r"^(?:0*[1-9]\d{0,8}(?:\.\d{0,3})?|0*\.(?:[1-9]\d{0,2}|0[1-9]\d?|00[1-9]))$",
        whole_from=1,
        whole_to=10**9 - 1,
    )
)
class QuantityField(serializers.DecimalField):
    """A quantity of at least 0.001."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=12, decimal_places=3, min_value=Decimal("0.001"), **kwargs)


class CustomerFieldsSerializer(StrictTypesMixin, serializers.ModelSerializer):
    country_code = serializers.RegexField(
        COUNTRY_CODE,
        max_length=2,
        required=False,
        allow_blank=True,
        error_messages={"invalid": "A two-letter country code, such as SE."},
    )

    class Meta:
        model = Customer
        fields = list(CUSTOMER_FIELDS)

    def validate_country_code(self, value):
        return value.upper()


class CustomerCreateSerializer(CustomerFieldsSerializer):
    customer_id = serializers.CharField(max_length=64)
    subscriber_id = serializers.IntegerField(required=False, min_value=1)

    class Meta(CustomerFieldsSerializer.Meta):
        fields = ["customer_id", "subscriber_id", *CUSTOMER_FIELDS]


class ItemSerializer(StrictTypesMixin, serializers.Serializer):
    description = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default=""
    )
    revenue_category = serializers.CharField(max_length=100)
    tax_rate = TaxRateField()
    quantity = QuantityField()
    unit_price = MoneyField()


class PaymentSerializer(StrictTypesMixin, serializers.Serializer):
    payment_method = serializers.CharField(max_length=50)
    amount = MoneyField()


def _currency(**kwargs) -> serializers.RegexField:
    return serializers.RegexField(
        r"^[A-Za-z]{3}$",
        max_length=3,
        error_messages={"invalid": "A three-letter currency code, such as USD."},
        **kwargs,
    )


def _lines(serializer_class, max_length: int, **kwargs) -> serializers.ListField:
    # A ListField, not `many=True`: drf-spectacular documents its minItems and maxItems.
    return serializers.ListField(
        child=serializer_class(), min_length=1, max_length=max_length, **kwargs
    )


class OrderPatchSerializer(StrictTypesMixin, serializers.Serializer):
    customer_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    business_date = serializers.DateField(required=False)
    currency = _currency(required=False)
    items = _lines(ItemSerializer, MAX_ITEMS, required=False)
    payments = _lines(PaymentSerializer, MAX_PAYMENTS, required=False)


class OrderInputSerializer(StrictTypesMixin, serializers.Serializer):
    retail_transaction_id = serializers.CharField(max_length=64)
    customer_id = serializers.CharField(max_length=64, required=False, allow_null=True)
    subscriber_id = serializers.IntegerField(required=False, min_value=1)
    business_date = serializers.DateField()
    currency = _currency()
    items = _lines(ItemSerializer, MAX_ITEMS)
    payments = _lines(PaymentSerializer, MAX_PAYMENTS)
